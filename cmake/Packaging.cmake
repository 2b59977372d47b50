# `make package`: a Debian package of vendo (CPack DEB). Run by the package test as well.
include(GNUInstallDirs)

install(TARGETS vendo RUNTIME DESTINATION bin)
install(FILES deploy/debian/vendo.service DESTINATION lib/systemd/system)
install(FILES deploy/debian/vendo.toml DESTINATION /etc/vendo PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES deploy/policies/per-user-s3.json deploy/policies/per-user-dynamodb.json
              deploy/policies/per-device-s3.json
        DESTINATION share/vendo/policies)
install(DIRECTORY deploy/cloudformation/ DESTINATION share/vendo/cloudformation
        FILES_MATCHING PATTERN "*.yaml")
install(FILES README.md docs/configuration.md docs/issuers.md docs/compatibility.md
              docs/deploy.md docs/operating.md docs/protocol-v2.md docs/threat-model.md LICENSE
        DESTINATION share/doc/vendo)

set(CPACK_GENERATOR DEB)
# The server package only: the client library (component "client") is installed on its own.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};vendo;Unspecified;/")
set(CPACK_PACKAGE_NAME vendo)
set(CPACK_PACKAGE_VENDOR "vendo")
set(CPACK_PACKAGE_CONTACT "vendo developers <vendo@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "token vending machine: short-lived AWS credentials for devices")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/prerm;${PROJECT_SOURCE_DIR}/deploy/debian/postrm;${PROJECT_SOURCE_DIR}/deploy/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
