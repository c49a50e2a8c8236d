package main

import (
	"context"
	"testing"
	"time"
)

func TestUserPoolKeepsAUserOutOfItsUsedTimeStep(t *testing.T) {
	alice := user{Email: "alice@example.com", Password: "pw", TOTPKey: []byte("key")}
	bob := user{Email: "bob@example.com", Password: "pw"}
	pool := newUserPool([]user{alice, bob})
	const step = 1000
	now := stepStart(step).Add(10 * time.Second)

	first, _, ok := pool.tryTake(now)
	if !ok || first.Email != alice.Email {
		t.Fatalf("first take = %v, %v; want alice", first, ok)
	}
	second, _, ok := pool.tryTake(now)
	if !ok || second.Email != bob.Email {
		t.Fatalf("second take = %v, %v; want bob", second, ok)
	}
	if _, retryAt, ok := pool.tryTake(now); ok || !retryAt.IsZero() {
		t.Fatalf("take with every user busy = %v, retry at %v; want nothing and no retry time", ok, retryAt)
	}

	first.markCodeSent(step)
	pool.put(first)
	_, retryAt, ok := pool.tryTake(now)
	if ok {
		t.Fatal("alice was handed out again in the step her code was sent")
	}
	if !retryAt.Equal(stepStart(step + 1)) {
		t.Errorf("retry at %v, want the start of the next step %v", retryAt, stepStart(step+1))
	}

	pool.put(second) // bob has no authenticator app: he may sign in again at once
	if u, _, ok := pool.tryTake(now); !ok || u.Email != bob.Email {
		t.Fatalf("take = %v, %v; want bob, who is ready before alice", u, ok)
	}
	if u, _, ok := pool.tryTake(stepStart(step + 1)); !ok || u.Email != alice.Email {
		t.Fatalf("take in the next step = %v, %v; want alice", u, ok)
	}
}

func TestUserPoolTakeWaitsForAReturnedUser(t *testing.T) {
	pool := newUserPool([]user{{Email: "alice@example.com", Password: "pw"}})
	u, err := pool.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *pooledUser)
	go func() {
		next, err := pool.take(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- next
	}()
	pool.put(u)
	if next := <-got; next != u {
		t.Errorf("waiting take got %v, want the returned user", next)
	}
}

func TestUserPoolTakeEndsWithContext(t *testing.T) {
	pool := newUserPool([]user{{Email: "alice@example.com", Password: "pw"}})
	if _, err := pool.take(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pool.take(ctx); err == nil {
		t.Error("take with every user busy and a cancelled context returned a user")
	}
}
