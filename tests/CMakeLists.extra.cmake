# Extra settings for particular test areas (included by tests/CMakeLists.txt).

# keras_layers reads model_config attributes of the Keras .h5 fixtures with the HDF5 C API.
if(TARGET keel_test_keras_layers)
  target_include_directories(keel_test_keras_layers PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(keel_test_keras_layers PRIVATE ${HDF5_C_LIBRARIES})
endif()
