# cmake --install: headers under include/keel/<layer>/, the library, and a CMake package so that an
# outside project does find_package(keel) and links keel::keel.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(layer graph autodiff ops checkpoint keras)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/${layer}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/keel/${layer}
          FILES_MATCHING PATTERN "*.h"
          PATTERN "tools" EXCLUDE PATTERN "fuzz" EXCLUDE PATTERN "proto" EXCLUDE
          # Internal: the checkpointer's restore side includes generated protobuf headers and the HDF5
          # helpers HDF5's C headers, neither of which a consumer has.
          PATTERN "object_graph.h" EXCLUDE PATTERN "restore.h" EXCLUDE PATTERN "hdf5_detail.h" EXCLUDE)
endforeach()
if(EXISTS ${CMAKE_SOURCE_DIR}/keel.h)
  install(FILES ${CMAKE_SOURCE_DIR}/keel.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/keel)
endif()

install(TARGETS keel EXPORT keelTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT keelTargets NAMESPACE keel:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/keelConfig.cmake.in
  ${CMAKE_BINARY_DIR}/keelConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/keelConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/keelConfig.cmake ${CMAKE_BINARY_DIR}/keelConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)
