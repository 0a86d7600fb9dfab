# kalam_module(<lib> <deps...>): one library per src/ folder from every .cc in it.
# A subfolder with its own CMakeLists.txt is a nested module (its own library) and is left out.
# A folder with no sources yet becomes an INTERFACE library so the tree always configures.
function(kalam_module lib)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER sources EXCLUDE REGEX ".*/main\\.cc$")
  file(GLOB_RECURSE nested RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/*/CMakeLists.txt)
  foreach(sub ${nested})
    get_filename_component(dir ${sub} DIRECTORY)
    list(FILTER sources EXCLUDE REGEX "^${CMAKE_CURRENT_SOURCE_DIR}/${dir}/")
  endforeach()
  if(sources)
    add_library(${lib} STATIC ${sources})
    target_link_libraries(${lib} PUBLIC ${ARGN})
  else()
    add_library(${lib} INTERFACE)
    target_link_libraries(${lib} INTERFACE ${ARGN})
  endif()
endfunction()
