package reverse_test

import (
	"testing"

	"example.com/sockets/07-reverse-repl/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }
