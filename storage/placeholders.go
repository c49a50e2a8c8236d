package storage

import "strconv"

// placeholders returns "($from, …, $from+n-1)" for a multi-row INSERT.
func placeholders(from, n int) string {
	b := make([]byte, 0, n*4+2)
	b = append(b, '(')
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(from+i), 10)
	}
	return string(append(b, ')'))
}

// placeholder is "$n".
func placeholder(n int) string { return "$" + strconv.Itoa(n) }
