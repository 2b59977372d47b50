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
              docs/deploy.md docs/operating.md docs/protocol-v2.md docs/threat-model.md
              docs/architecture.md
              docs/client.md docs/decisions.md LICENSE
        DESTINATION share/doc/vendo)

set(CPACK_GENERATOR DEB)
# The server package only: the client library (component "client") is installed on its own.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};vendo;Unspecified;/")
set(CPACK_PACKAGE_NAME vendo)
set(CPACK_PACKAGE_VENDOR "vendo")
set(CPACK_PACKAGE_CONTACT "vendo maintainers <maintainers@users.noreply.r-seed-fad3ff7b.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "token vending machine: short-lived AWS credentials for devices")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "vendo hands mobile, web and IoT apps short-lived AWS credentials scoped to
one device or user, minted by AWS STS (GetFederationToken or AssumeRole with
a session policy rendered from a template) or an STS-compatible store, so
that no long-term key ships inside an app.

It speaks the 2012 AWS token vending machine protocols (anonymous and
identity) byte for byte, so existing client apps keep working, and a modern
protocol v2. It runs on its embedded SQLite store, or on PostgreSQL across
many hosts behind a load balancer, and deploys to AWS in one step.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ca-certificates, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/prerm;${PROJECT_SOURCE_DIR}/deploy/debian/postrm;${PROJECT_SOURCE_DIR}/deploy/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
# Debian's documentation files: the changelog (gzip -9n, as dpkg expects), the copyright, and
# a man page made by help2man from `vendo --help`.
# Made in release trees only: a sanitizer build's binary is not what ships.
set(VENDO_DEB_DOC ${PROJECT_BINARY_DIR}/deb-doc)
if(NOT VENDO_SANITIZE)
  add_custom_command(
    OUTPUT ${VENDO_DEB_DOC}/changelog.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${VENDO_DEB_DOC}
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/debian/changelog > ${VENDO_DEB_DOC}/changelog.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog VERBATIM)
  add_custom_command(
    OUTPUT ${VENDO_DEB_DOC}/vendo.1.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${VENDO_DEB_DOC}
    COMMAND help2man --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
            --name "token vending machine: short-lived AWS credentials for devices"
            --output ${VENDO_DEB_DOC}/vendo.1 $<TARGET_FILE:vendo>
    COMMAND gzip -9nf ${VENDO_DEB_DOC}/vendo.1
    DEPENDS vendo VERBATIM)
  add_custom_target(vendo_deb_doc ALL DEPENDS ${VENDO_DEB_DOC}/changelog.gz ${VENDO_DEB_DOC}/vendo.1.gz)
  install(FILES ${VENDO_DEB_DOC}/changelog.gz deploy/debian/copyright DESTINATION share/doc/vendo)
  install(FILES ${VENDO_DEB_DOC}/vendo.1.gz DESTINATION share/man/man1)
endif()

include(CPack)
