// Boost.JSON's implementation, compiled once into the Windows build
// (cmake/DependenciesWindows.cmake): Debian packages the library for Linux only.
#include <boost/json/src.hpp>
