package main

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestParseArgon2Params(t *testing.T) {
	tests := []struct {
		in      string
		want    argon2Params
		wantErr bool
	}{
		{in: "m=19456,t=2,p=1", want: argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}},
		{in: "p=4, t=3, m=65536", want: argon2Params{MemoryKiB: 65536, Time: 3, Threads: 4}},
		{in: "m=19456,t=2", wantErr: true},
		{in: "m=19456,t=2,p=1,x=3", wantErr: true},
		{in: "m=19456,m=1,t=2,p=1", wantErr: true},
		{in: "m=19456,t=0,p=1", wantErr: true},
		{in: "m=16,t=1,p=4", wantErr: true},
		{in: "m=19456,t=2,p=256", wantErr: true},
		{in: "m=lots,t=2,p=1", wantErr: true},
		{in: "19456,2,1", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseArgon2Params(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseArgon2Params(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseArgon2Params(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestArgon2ParamsString(t *testing.T) {
	p := argon2Params{MemoryKiB: 65536, Time: 3, Threads: 4}
	if got, want := p.String(), "m=65536,t=3,p=4"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestMeasureArgon2CountsHashes(t *testing.T) {
	cheap := argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}
	if got := measureArgon2(context.Background(), cheap, 2, 10*time.Millisecond); got <= 0 {
		t.Errorf("hashes/s = %v, want more than zero", got)
	}
}

func TestBaselineHashersOnePerCPUAtMostOnePerWorker(t *testing.T) {
	cpus := runtime.GOMAXPROCS(0)
	tests := []struct {
		workers, want int
	}{
		{workers: 1, want: 1},
		{workers: cpus, want: cpus},
		{workers: cpus + 7, want: cpus},
		{workers: 1000, want: cpus},
	}
	for _, tt := range tests {
		if got := baselineHashers(tt.workers); got != tt.want {
			t.Errorf("baselineHashers(%d) = %d on %d CPUs, want %d", tt.workers, got, cpus, tt.want)
		}
	}
}
