# Extra wiring for particular test areas (included by tests/CMakeLists.txt).

# Checkpoint tests: Boost.Serialization for state.h, and the crash-test child process.
if(TARGET keel_test_checkpoint)
  target_link_libraries(keel_test_checkpoint PRIVATE Boost::serialization)
  add_executable(keel_ckpt_crash_child ${CMAKE_CURRENT_SOURCE_DIR}/support/ckpt_crash_child.cpp)
  target_link_libraries(keel_ckpt_crash_child PRIVATE keel)
  target_compile_options(keel_ckpt_crash_child PRIVATE ${KEEL_WARNINGS})
  add_dependencies(keel_test_checkpoint keel_ckpt_crash_child)
  target_compile_definitions(keel_test_checkpoint PRIVATE
                             KEEL_CRASH_CHILD="$<TARGET_FILE:keel_ckpt_crash_child>")
endif()

# keras_layers reads model_config attributes of the Keras .h5 fixtures with the HDF5 C API.
if(TARGET keel_test_keras_layers)
  target_include_directories(keel_test_keras_layers PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(keel_test_keras_layers PRIVATE ${HDF5_C_LIBRARIES})
endif()

# Exact resumption of fit: the SIGKILL test's child trains with BackupAndRestore.
if(TARGET keel_test_keras_resume)
  add_executable(keel_resume_child ${CMAKE_CURRENT_SOURCE_DIR}/support/keras_resume_child.cpp)
  target_link_libraries(keel_resume_child PRIVATE keel)
  target_compile_options(keel_resume_child PRIVATE ${KEEL_WARNINGS})
  add_dependencies(keel_test_keras_resume keel_resume_child)
  target_compile_definitions(keel_test_keras_resume PRIVATE KEEL_RESUME_CHILD="$<TARGET_FILE:keel_resume_child>")
endif()
