// Package respond writes JSON responses and maps Mosaic's error codes to HTTP
// statuses. It is the one place that mapping lives, shared by every HTTP edge
// (the Tracking API, the admin API, the UI).
package respond

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
)

// statuses maps each error code of the catalogue to its HTTP status.
var statuses = map[string]int{
	mosaic.ECONFLICT:      http.StatusConflict,
	mosaic.EINTERNAL:      http.StatusInternalServerError,
	mosaic.EINVALID:       http.StatusBadRequest,
	mosaic.ENOTFOUND:      http.StatusNotFound,
	mosaic.EUNAUTHORIZED:  http.StatusUnauthorized,
	mosaic.EFORBIDDEN:     http.StatusForbidden,
	mosaic.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	mosaic.ETOOMANY:       http.StatusTooManyRequests,
	mosaic.EUNAVAILABLE:   http.StatusServiceUnavailable,
	mosaic.EINVALIDJSON:   http.StatusBadRequest,
	mosaic.EMISSINGID:     http.StatusBadRequest,
	mosaic.EMISSINGEVENT:  http.StatusBadRequest,
	mosaic.EUNKNOWNTYPE:   http.StatusBadRequest,
	mosaic.ETOODEEP:       http.StatusBadRequest,
	mosaic.EINVALIDFIELD:  http.StatusBadRequest,
	mosaic.EBADENCODING:   http.StatusBadRequest,
	mosaic.EEMPTYBATCH:    http.StatusBadRequest,
	mosaic.EMETHOD:        http.StatusMethodNotAllowed,
	mosaic.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	mosaic.EALLREJECTED:   http.StatusBadRequest,
	mosaic.EPARTIALREJECT: http.StatusOK,
}

// Status returns the HTTP status for an error code; 500 for unknown codes.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and the user-facing message of an error.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error writes err as {"error": {"code", "message"}} with its status.
// Internal errors are logged with the request and shown generically.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := mosaic.ErrorCode(err)
	if code == mosaic.EINTERNAL && log != nil {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	JSON(w, Status(code), ErrorBody{Error: ErrorDetail{Code: code, Message: mosaic.ErrorMessage(err)}})
}

// JSON writes v as JSON with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
