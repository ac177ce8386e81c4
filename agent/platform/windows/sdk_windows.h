// The Windows SDK headers the collectors use, included after common/platform/windows/windows_api.h
// (which must come first so its macros apply). Sources include this instead of the SDK headers:
// clang-format would sort an angle-bracket include above the quoted windows_api.h.
#pragma once

// clang-format off
#include "common/platform/windows/windows_api.h"
#include <ws2tcpip.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <objbase.h>
#include <oleauto.h>
#include <psapi.h>
#include <sddl.h>
#include <tlhelp32.h>
#include <winioctl.h>
#include <wbemidl.h>
#include <winternl.h>
#include <wtsapi32.h>
// clang-format on
