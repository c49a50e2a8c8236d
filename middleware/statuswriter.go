package middleware

import "net/http"

// StatusWriter wraps a ResponseWriter to remember the status code and the
// number of body bytes written. Unwrap exposes the original writer, so
// http.ResponseController still reaches Flush, Hijack and deadlines.
type StatusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// NewStatusWriter wraps w. A writer that is already a *StatusWriter is
// returned as it is, so stacked middleware share one record.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	if sw, ok := w.(*StatusWriter); ok {
		return sw
	}
	return &StatusWriter{ResponseWriter: w}
}

// WriteHeader records the final status code and passes it on. Informational
// 1xx codes (except 101 Switching Protocols) are not final and are not kept.
func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written; writing without WriteHeader means 200.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client when the underlying writer can.
// It is here for callers that type-assert http.Flusher instead of using
// http.ResponseController.
func (w *StatusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status code sent so far: 200 if only the body was written,
// 0 if nothing has been sent yet.
func (w *StatusWriter) Status() int { return w.status }

// Written reports whether the status line has gone out, after which the
// status can no longer change.
func (w *StatusWriter) Written() bool { return w.status != 0 }

// BytesWritten is the number of body bytes written.
func (w *StatusWriter) BytesWritten() int64 { return w.bytes }
