// The one header that includes <windows.h>: every Windows source of the project includes this
// instead, so the macros that make <windows.h> collide with C++ (min, max, the ANSI variants of
// every function) are switched off in one place.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef UNICODE
#define UNICODE
#endif
#ifndef _UNICODE
#define _UNICODE
#endif
// Windows 8 / Server 2012 and later (GetIfTable2, GetSystemTimePreciseAsFileTime).
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif

#include <windows.h>
#include <winsock2.h>  // before windows.h, which would otherwise pull in the old winsock.h
