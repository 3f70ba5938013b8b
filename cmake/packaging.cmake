# What `cmake --install` puts where, and the Debian package CPack builds from it
# (`cpack -G DEB` in the build directory: rivulet_<version>_<arch>.deb).

set(RIVULET_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/rivulet)

# The unit goes to <prefix>/lib/systemd/system (systemd's path, not one GNUInstallDirs knows):
# see the top-level CMakeLists.txt, which rewrites its ExecStart for the prefix.
install(FILES examples/rivulet.yaml DESTINATION ${RIVULET_CONFIG_DIR})
install(FILES README.md docs/architecture.md docs/operations.md docs/performance.md
              docs/scaling.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES examples/rivulet.yaml examples/demo.yaml examples/alerts.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Man pages are installed gzipped (Debian policy 12.1); -n keeps the archive free of the build's
# time stamp and file name, so two builds of one source give identical packages.
find_program(GZIP gzip REQUIRED)
set(man_pages rivuletd.8 rivulet-sub.1)
set(man_outputs)
foreach(page ${man_pages})
  set(out ${PROJECT_BINARY_DIR}/man/${page}.gz)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${GZIP} -9 -n -c ${PROJECT_SOURCE_DIR}/docs/man/${page} > ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}
    COMMENT "Compressing man page ${page}"
    VERBATIM)
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  list(APPEND man_outputs ${out})
endforeach()
add_custom_target(rivulet_man ALL DEPENDS ${man_outputs})

# ---- Debian package ----
# `cmake --install` never builds; with this, neither do `make install` and cpack (whose
# "preinstall" step would otherwise build every test and benchmark first): they install what is
# built, and fail on what is not. Build, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rivulet)
set(CPACK_PACKAGE_VENDOR rivulet)
set(RIVULET_PACKAGE_MAINTAINER "rivulet maintainers <rivulet@example.org>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${RIVULET_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${RIVULET_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "streaming analytics daemon: windowed aggregates published over ZeroMQ")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "rivulet reads event streams (Kafka, ZeroMQ, TCP, UDP, files, a built-in generator) of JSON or\n"
    "CSV, computes tumbling, hopping and session window aggregates per key in event time, and\n"
    "publishes each result over ZeroMQ the moment its window closes. It is configured in YAML,\n"
    "exports Prometheus metrics and runs as a systemd service.\n"
    "\n"
    "This package holds the daemon rivuletd, the subscriber rivulet-sub, the systemd unit\n"
    "(installed, not enabled) and a loopback-only example configuration.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # rivulet_<version>_<arch>.deb
# Runtime dependencies (librdkafka1, libzmq5, ...) from the binaries, by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The package installs where this build would: with the default /usr prefix, the Debian layout.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)

# The config is the administrator's once installed: dpkg keeps their edits on upgrade.
set(conffiles ${PROJECT_BINARY_DIR}/package/conffiles)
file(CONFIGURE OUTPUT ${conffiles} CONTENT "${RIVULET_CONFIG_DIR}/rivulet.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${conffiles})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
