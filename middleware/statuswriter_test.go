package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusWriterRecordsStatusAndBytes(t *testing.T) {
	tests := []struct {
		name       string
		handler    func(w http.ResponseWriter)
		wantStatus int
		wantBytes  int64
	}{
		{name: "nothing written", handler: func(w http.ResponseWriter) {}, wantStatus: 0},
		{name: "body only means 200", handler: func(w http.ResponseWriter) { w.Write([]byte("abc")) },
			wantStatus: 200, wantBytes: 3},
		{name: "explicit status", handler: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusSeeOther)
		}, wantStatus: http.StatusSeeOther},
		{name: "first status wins", handler: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("no"))
			w.Write([]byte("pe"))
		}, wantStatus: http.StatusBadRequest, wantBytes: 4},
		{name: "early hints are not final", handler: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, wantStatus: http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := NewStatusWriter(httptest.NewRecorder())
			tt.handler(sw)
			if sw.Status() != tt.wantStatus || sw.BytesWritten() != tt.wantBytes {
				t.Fatalf("status %d, bytes %d; want %d, %d", sw.Status(), sw.BytesWritten(), tt.wantStatus, tt.wantBytes)
			}
		})
	}
}

func TestStatusWriterKeepsFlushReachable(t *testing.T) {
	rec := httptest.NewRecorder()
	sw := NewStatusWriter(rec)
	sw.Write([]byte("event"))
	if err := http.NewResponseController(sw).Flush(); err != nil {
		t.Fatalf("ResponseController.Flush through the wrapper: %v", err)
	}
	if !rec.Flushed {
		t.Fatal("the underlying writer was not flushed")
	}

	rec2 := httptest.NewRecorder()
	var w http.ResponseWriter = NewStatusWriter(rec2)
	f, ok := w.(http.Flusher)
	if !ok {
		t.Fatal("the wrapper is not an http.Flusher")
	}
	f.Flush()
	if !rec2.Flushed {
		t.Fatal("Flush did not reach the underlying writer")
	}
}

func TestNewStatusWriterReusesAWrapper(t *testing.T) {
	sw := NewStatusWriter(httptest.NewRecorder())
	if NewStatusWriter(sw) != sw {
		t.Fatal("wrapping a *StatusWriter again made a second record")
	}
}
