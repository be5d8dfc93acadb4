// OpenAI-shaped API errors: {"error":{"message","type","code","param"}} with the HTTP status that
// goes with them. Handlers throw ApiException; the service turns it into a response.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"

namespace autothink::serve {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // OpenAI's error types
  std::string code;                            // machine-readable: "invalid_json", "model_not_found", ...
  std::string param;                           // the request field at fault, if any
  int retry_after_s = 0;                       // > 0 adds a Retry-After header (429/503)
};

class ApiException : public Error {
 public:
  explicit ApiException(ApiError error) : Error(error.message), error_(std::move(error)) {}
  const ApiError& error() const { return error_; }

 private:
  ApiError error_;
};

// 400 invalid_request_error naming the field.
inline ApiException invalid_request(const std::string& message, const std::string& param = "",
                                    const std::string& code = "invalid_value") {
  return ApiException(ApiError{400, message, "invalid_request_error", code, param, 0});
}

inline nlohmann::json error_json(const ApiError& e) {
  nlohmann::json err = {{"message", e.message}, {"type", e.type}};
  err["code"] = e.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.code);
  err["param"] = e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param);
  return {{"error", err}};
}

}  // namespace autothink::serve
