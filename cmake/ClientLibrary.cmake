# libvendo-client: the device-side library, as libvendo-client.so and libvendo-client.a, with
# include/vendo/client.h and a CMake package (find_package(vendo) gives vendo::client and
# vendo::client_static). Both are made of the client module and the modules it uses, so an
# app links one library. Installed with `cmake --install build --component client`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VENDO_CLIENT_MODULES vendo_client vendo_sigv4 vendo_protocol vendo_crypto vendo_net vendo_common)
set(VENDO_CLIENT_OBJECTS)
foreach(module IN LISTS VENDO_CLIENT_MODULES)
  # The shared library needs position-independent objects.
  set_target_properties(${module} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  list(APPEND VENDO_CLIENT_OBJECTS $<TARGET_OBJECTS:${module}>)
endforeach()

foreach(kind SHARED STATIC)
  string(TOLOWER ${kind} suffix)
  set(target vendo_client_${suffix})
  add_library(${target} ${kind} ${VENDO_CLIENT_OBJECTS})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PRIVATE OpenSSL::SSL OpenSSL::Crypto spdlog::spdlog fmt::fmt
                                          argon2 Threads::Threads)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME vendo-client
                                             LINKER_LANGUAGE CXX
                                             ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
                                             LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
endforeach()
if(VENDO_SANITIZE)
  # A sanitizer build's library needs the sanitizer runtime in whatever links it.
  target_link_options(vendo_client_static INTERFACE -fsanitize=${VENDO_SANITIZE})
endif()
set_target_properties(vendo_client_shared PROPERTIES EXPORT_NAME client
                                                     VERSION ${PROJECT_VERSION}
                                                     SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(vendo_client_static PROPERTIES EXPORT_NAME client_static)

install(TARGETS vendo_client_shared vendo_client_static EXPORT vendoTargets COMPONENT client
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/vendo/client.h include/vendo/credentials.h include/vendo/result.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vendo COMPONENT client)
install(EXPORT vendoTargets NAMESPACE vendo:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vendo
        COMPONENT client)
configure_package_config_file(cmake/vendoConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vendoConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vendo)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vendoConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vendoConfig.cmake ${PROJECT_BINARY_DIR}/vendoConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vendo COMPONENT client)
