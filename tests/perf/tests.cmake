# Benchmarks (ninja's *_perftest.cc convention): built with everything else so
# they keep compiling, never registered with ctest (they time, not assert).
# Run by hand, e.g. <build>/perf/report_html_perftest.
add_executable(report_html_perftest ${CMAKE_SOURCE_DIR}/executor/report/report_html_perftest.cc)
target_link_libraries(report_html_perftest PRIVATE mutcell_core)
set_target_properties(report_html_perftest PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/perf)
