// Temperatures of the ACPI thermal zones, the only sensors Windows itself exposes: through WMI
// (root\WMI, MSAcpi_ThermalZoneTemperature). CPU core sensors need a vendor driver and are not
// read.
//
// Limitations: WMI is asked on the metrics thread, once per sample; a slow WMI service delays the
// sample (the connection waits at most two minutes, each answer at most five seconds). Many
// machines have no ACPI thermal zone, or one whose firmware reports a constant: both are
// reported as they are.
#include <fmt/format.h>

#include <utility>
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// How long one WMI answer may take; WMI may be slow or wedged, and this runs on the metrics
// thread.
constexpr long kWmiTimeoutMs = 5000;

Error com_error(std::string_view what, HRESULT hr) {
  return Error{Error::Code::kGeneric,
               fmt::format("{}: HRESULT {:#010x}", what, static_cast<std::uint32_t>(hr))};
}

// COM on this thread for the duration of one collection. A thread already in a single-threaded
// apartment (RPC_E_CHANGED_MODE) can still make these calls; it is then left as it was.
class ComScope {
 public:
  ComScope() : hr_(::CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ~ComScope() {
    if (SUCCEEDED(hr_)) ::CoUninitialize();
  }
  ComScope(const ComScope&) = delete;
  ComScope& operator=(const ComScope&) = delete;
  bool usable() const { return SUCCEEDED(hr_) || hr_ == RPC_E_CHANGED_MODE; }
  HRESULT result() const { return hr_; }

 private:
  HRESULT hr_;
};

// An interface pointer released on destruction.
template <class T>
class ComRef {
 public:
  ComRef() = default;
  ComRef(const ComRef&) = delete;
  ComRef& operator=(const ComRef&) = delete;
  ~ComRef() {
    if (p_ != nullptr) p_->Release();
  }
  T* operator->() const { return p_; }
  T* get() const { return p_; }
  T** out() { return &p_; }

 private:
  T* p_ = nullptr;
};

class Bstr {
 public:
  explicit Bstr(const wchar_t* text) : b_(::SysAllocString(text)) {}
  ~Bstr() { ::SysFreeString(b_); }
  Bstr(const Bstr&) = delete;
  Bstr& operator=(const Bstr&) = delete;
  BSTR get() const { return b_; }

 private:
  BSTR b_;
};

class Variant {
 public:
  Variant() { ::VariantInit(&v_); }
  ~Variant() { ::VariantClear(&v_); }
  Variant(const Variant&) = delete;
  Variant& operator=(const Variant&) = delete;
  VARIANT* out() { return &v_; }
  const VARIANT& get() const { return v_; }

 private:
  VARIANT v_;
};

Result<std::vector<codec::TemperatureInfo>> query_thermal_zones() {
  ComScope com;
  if (!com.usable()) return std::unexpected(com_error("CoInitializeEx", com.result()));
  ComRef<IWbemLocator> locator;
  HRESULT hr = ::CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER,
                                  IID_IWbemLocator, reinterpret_cast<void**>(locator.out()));
  if (FAILED(hr)) return std::unexpected(com_error("WMI locator", hr));
  ComRef<IWbemServices> services;
  Bstr ns(L"ROOT\\WMI");
  // USE_MAX_WAIT bounds the connection to two minutes; without it a wedged WMI service would
  // hold the metrics thread indefinitely.
  hr = locator->ConnectServer(ns.get(), nullptr, nullptr, nullptr, WBEM_FLAG_CONNECT_USE_MAX_WAIT,
                              nullptr, nullptr, services.out());
  if (FAILED(hr)) return std::unexpected(com_error("WMI ROOT\\WMI", hr));
  // The process never calls CoInitializeSecurity, whose default (identify) level the WMI
  // providers refuse; impersonation is set on this proxy instead.
  hr = ::CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr,
                           RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE);
  if (FAILED(hr)) return std::unexpected(com_error("CoSetProxyBlanket", hr));

  Bstr language(L"WQL");
  Bstr query(L"SELECT InstanceName, CurrentTemperature FROM MSAcpi_ThermalZoneTemperature");
  ComRef<IEnumWbemClassObject> rows;
  hr = services->ExecQuery(language.get(), query.get(),
                           WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr,
                           rows.out());
  std::vector<codec::TemperatureInfo> list;
  // Firmware without ACPI thermal zones has no such class or no instances: no sensors, as a
  // Linux machine without hwmon.
  if (hr == static_cast<HRESULT>(WBEM_E_NOT_SUPPORTED) ||
      hr == static_cast<HRESULT>(WBEM_E_INVALID_CLASS) ||
      hr == static_cast<HRESULT>(WBEM_E_NOT_FOUND)) {
    return list;
  }
  if (FAILED(hr)) return std::unexpected(com_error("WMI MSAcpi_ThermalZoneTemperature", hr));

  while (list.size() < kMaxSensors) {
    ComRef<IWbemClassObject> row;
    ULONG returned = 0;
    hr = rows->Next(kWmiTimeoutMs, 1, row.out(), &returned);
    if (hr == static_cast<HRESULT>(WBEM_S_TIMEDOUT)) {
      return fail(Error::Code::kTimeout, "WMI MSAcpi_ThermalZoneTemperature: no answer in 5 s");
    }
    if (hr == static_cast<HRESULT>(WBEM_E_NOT_SUPPORTED)) break;
    if (FAILED(hr)) return std::unexpected(com_error("WMI MSAcpi_ThermalZoneTemperature", hr));
    if (returned == 0) break;
    Variant name, kelvin_tenths;
    if (FAILED(row->Get(L"InstanceName", 0, name.out(), nullptr, nullptr)) ||
        FAILED(row->Get(L"CurrentTemperature", 0, kelvin_tenths.out(), nullptr, nullptr))) {
      continue;
    }
    if (name.get().vt != VT_BSTR ||
        (kelvin_tenths.get().vt != VT_I4 && kelvin_tenths.get().vt != VT_UI4)) {
      continue;
    }
    // CurrentTemperature is in tenths of a kelvin.
    const double celsius = static_cast<double>(kelvin_tenths.get().lVal) / 10.0 - 273.15;
    if (celsius <= -100.0 || celsius >= 250.0) continue;  // a zone that reports nothing real
    list.push_back({"acpi-thermal-zone", clip_text(rmm::win::to_utf8(name.get().bstrVal)),
                    static_cast<float>(celsius)});
  }
  return list;
}

}  // namespace

Status collect_temperatures(SamplerState&, codec::MetricsInfo& out) {
  auto list = query_thermal_zones();
  if (!list) return std::unexpected(list.error());
  out.temperatures = std::move(*list);
  return {};
}

}  // namespace rmm::agent::platform
