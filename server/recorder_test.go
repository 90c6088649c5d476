package server

import (
	"net/http"
	"net/http/httptest"
)

type recorder struct {
	*httptest.ResponseRecorder
	code int
}

func newRecorder() *recorder { return &recorder{ResponseRecorder: httptest.NewRecorder()} }

func (r *recorder) WriteHeader(c int) { r.code = c; r.ResponseRecorder.WriteHeader(c) }

func mustReq(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }
