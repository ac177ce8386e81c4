// Lets a new process inherit the given handles and no other: the STARTUPINFOEXW for CreateProcessW
// with a PROC_THREAD_ATTRIBUTE_HANDLE_LIST (pass EXTENDED_STARTUPINFO_PRESENT and bInheritHandles
// TRUE). Without it a process inherits every inheritable handle of the agent, those another
// thread is creating for another process at the same moment included.
//
// Concurrency: one per CreateProcessW call. The handles must be inheritable and stay open until
// the process is created.
#pragma once

#include <vector>

#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::win {

class InheritOnly {
 public:
  InheritOnly() = default;
  InheritOnly(const InheritOnly&) = delete;
  InheritOnly& operator=(const InheritOnly&) = delete;
  Status init(std::vector<HANDLE> handles) {
    handles_ = std::move(handles);
    SIZE_T size = 0;
    ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    storage_.resize(size);
    auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
    if (!::InitializeProcThreadAttributeList(list, 1, 0, &size)) {
      return std::unexpected(rmm::win::last_error("InitializeProcThreadAttributeList"));
    }
    list_ = list;
    if (!::UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
                                     handles_.size() * sizeof(HANDLE), nullptr, nullptr)) {
      return std::unexpected(rmm::win::last_error("UpdateProcThreadAttribute"));
    }
    info_.StartupInfo.cb = sizeof info_;
    info_.lpAttributeList = list;
    return {};
  }
  ~InheritOnly() {
    if (list_ != nullptr) ::DeleteProcThreadAttributeList(list_);
  }
  STARTUPINFOEXW& info() { return info_; }

 private:
  std::vector<HANDLE> handles_;
  std::vector<unsigned char> storage_;
  LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
  STARTUPINFOEXW info_{};
};

}  // namespace rmm::agent::win
