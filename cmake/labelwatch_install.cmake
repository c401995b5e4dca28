# cmake --install and the .deb (CPack). With CMAKE_INSTALL_PREFIX=/usr (the package):
#   /usr/bin/labelwatchd, labelwatch, labelwatch-sim
#   /usr/lib/systemd/system/labelwatchd.service, labelwatchd@.service
#       (binary, configuration and documentation paths rewritten to this prefix)
#   /usr/share/doc/labelwatch/README.md, examples/labelwatch.toml (documented example)
#   /usr/share/labelwatch/prometheus/ alert rules, their tests, scrape config
#   /usr/share/labelwatch/grafana/labelwatch.json
#   /etc/labelwatch/ (empty: configuration and credentials are the operator's)
# The prefix is fixed at configure time because the unit files name it.
include(GNUInstallDirs)

foreach(unit labelwatchd.service labelwatchd@.service)
  file(READ ${PROJECT_SOURCE_DIR}/systemd/${unit} _unit)
  string(REPLACE "/usr/bin/labelwatchd" "${CMAKE_INSTALL_FULL_BINDIR}/labelwatchd" _unit "${_unit}")
  string(REPLACE "/etc/labelwatch" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/labelwatch" _unit "${_unit}")
  string(REPLACE "/usr/share/doc/labelwatch" "${CMAKE_INSTALL_FULL_DOCDIR}" _unit "${_unit}")
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/systemd/${unit} CONTENT "${_unit}")
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit} DESTINATION lib/systemd/system)
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/systemd/labelwatchd.service ${PROJECT_SOURCE_DIR}/systemd/labelwatchd@.service)

install(FILES etc/labelwatch.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/labelwatch
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE)
install(DIRECTORY etc/prometheus/ DESTINATION ${CMAKE_INSTALL_DATADIR}/labelwatch/prometheus)
install(DIRECTORY etc/grafana/ DESTINATION ${CMAKE_INSTALL_DATADIR}/labelwatch/grafana)

# The unit files name the installed paths, so the package is laid out exactly as
# configured: build it with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh does).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_PACKAGE_NAME labelwatch)
set(CPACK_PACKAGE_VENDOR "labelwatch")
set(CPACK_PACKAGE_CONTACT "labelwatch maintainers <labelwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Watches Huawei Cloud ModelArts labeling tasks")
set(CPACK_PACKAGE_DESCRIPTION
  "labelwatchd polls ModelArts auto-labeling and team labeling tasks, tracks their status
transitions, exports Prometheus metrics and JSON events, and can apply acceptance
decisions by rule. Includes the labelwatch CLI and the labelwatch-sim simulator.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)     # runtime library dependencies via dpkg-shlibdeps
# Nothing beyond the shared libraries: DynamicUser= needs no system user.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/cmake/deb/postinst;${PROJECT_SOURCE_DIR}/cmake/deb/prerm;${PROJECT_SOURCE_DIR}/cmake/deb/postrm")
set(CPACK_STRIP_FILES ON)
include(CPack)
