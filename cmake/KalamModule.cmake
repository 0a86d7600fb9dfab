# kalam_module(<lib> <deps...>): one library per src/ folder from every .cc in it.
# A folder with no sources yet becomes an INTERFACE library so the tree always configures.
function(kalam_module lib)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER sources EXCLUDE REGEX ".*/main\\.cc$")
  if(sources)
    add_library(${lib} STATIC ${sources})
    target_link_libraries(${lib} PUBLIC ${ARGN})
  else()
    add_library(${lib} INTERFACE)
    target_link_libraries(${lib} INTERFACE ${ARGN})
  endif()
endfunction()
