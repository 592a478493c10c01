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

# The CNN tutorial example is its own test, on the full data it documents (a few seconds in Release on
# 2 cores): it exits 1 below 0.85 test accuracy after one epoch. Examples are not built under the
# sanitizers (scripts/test.sh), so this runs in the release stage only. keras_mlp_subset and
# keras_classification are not registered: they land just under their targets (0.77-0.79 of 0.80,
# 0.844-0.849 of 0.85 over seeds 0-4 / 0-2), which is an open question, not a test to weaken.
if(TARGET keel-example-keras_cnn)
  add_test(NAME example.keras_cnn COMMAND keel-example-keras_cnn)
  set_tests_properties(example.keras_cnn PROPERTIES LABELS examples TIMEOUT 600)
endif()

# keras_tutorials runs the example programs of the "Save and load models" tutorial flows: only in builds
# with examples (not the sanitizer build); without KEEL_EXAMPLES_DIR the area has no tests.
set(KEEL_TUTORIAL_EXAMPLES tutorial_checkpoint_callback tutorial_checkpoint_every_n tutorial_save_weights
    tutorial_save_model sequence_lstm)
if(TARGET keel_test_keras_tutorials AND TARGET keel-example-sequence_lstm)
  foreach(example ${KEEL_TUTORIAL_EXAMPLES})
    add_dependencies(keel_test_keras_tutorials keel-example-${example})
  endforeach()
  target_compile_definitions(keel_test_keras_tutorials PRIVATE
                             KEEL_EXAMPLES_DIR="$<TARGET_FILE_DIR:keel-example-sequence_lstm>")
endif()

# Exact resumption of fit: the SIGKILL test's child trains with BackupAndRestore.
if(TARGET keel_test_keras_resume)
  add_executable(keel_resume_child ${CMAKE_CURRENT_SOURCE_DIR}/support/keras_resume_child.cpp)
  target_link_libraries(keel_resume_child PRIVATE keel)
  target_compile_options(keel_resume_child PRIVATE ${KEEL_WARNINGS})
  add_dependencies(keel_test_keras_resume keel_resume_child)
  target_compile_definitions(keel_test_keras_resume PRIVATE KEEL_RESUME_CHILD="$<TARGET_FILE:keel_resume_child>")
endif()
