package shell

import "strings"

// Incomplete reports whether PowerShell would ask for more input after
// script, as the console does with its ">> " prompt: a brace, parenthesis,
// bracket, string, here-string or block comment is still open, or the last
// token is a pipe, a chain operator (&& ||) or a line-continuation
// backtick. It is a tokenizer-lite: it knows quoting, escapes, comments
// and subexpressions ($( ) inside double quotes), not the grammar, so an
// unmatched closer counts as complete and the server reports the error.
func Incomplete(script string) bool {
	rs := []rune(script)
	var stack []rune // '{' '(' '[' for code, '"' for an expandable string
	last := ""       // the last significant code token ("|", "&&", "`", or "x")
	inString := func() bool { return len(stack) > 0 && stack[len(stack)-1] == '"' }
	i := 0
	for i < len(rs) {
		c := rs[i]
		if inString() {
			switch {
			case c == '`':
				i += 2
				continue
			case c == '"' && i+1 < len(rs) && rs[i+1] == '"':
				i += 2
				continue
			case c == '"':
				stack = stack[:len(stack)-1]
				last = "x"
			case c == '$' && i+1 < len(rs) && rs[i+1] == '(':
				stack = append(stack, '(')
				i += 2
				continue
			}
			i++
			continue
		}
		switch {
		case c == '<' && i+1 < len(rs) && rs[i+1] == '#':
			end := indexRunes(rs, i+2, "#>")
			if end < 0 {
				return true
			}
			i = end + 2
			continue
		case c == '#' && tokenStart(rs, i):
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			continue
		case c == '@' && i+1 < len(rs) && (rs[i+1] == '\'' || rs[i+1] == '"') && hereStart(rs, i+2):
			end, ok := hereEnd(rs, i+2, rs[i+1])
			if !ok {
				return true
			}
			i = end
			last = "x"
			continue
		case c == '\'':
			j := i + 1
			closed := false
			for j < len(rs) {
				if rs[j] == '\'' {
					if j+1 < len(rs) && rs[j+1] == '\'' {
						j += 2
						continue
					}
					closed = true
					break
				}
				j++
			}
			if !closed {
				return true
			}
			i = j + 1
			last = "x"
			continue
		case c == '"':
			stack = append(stack, '"')
		case c == '`':
			if i+1 >= len(rs) {
				return true
			}
			if rs[i+1] == '\n' || (rs[i+1] == '\r' && i+2 < len(rs) && rs[i+2] == '\n') {
				// Line continuation: what follows belongs to this line.
				last = "`"
				if rs[i+1] == '\r' {
					i++
				}
				i += 2
				continue
			}
			i += 2
			last = "x"
			continue
		case c == '{' || c == '(' || c == '[':
			stack = append(stack, c)
			last = "x"
		case c == '}' || c == ')' || c == ']':
			if len(stack) > 0 && stack[len(stack)-1] == opener(c) {
				stack = stack[:len(stack)-1]
			}
			last = "x"
		case c == '|' && i+1 < len(rs) && rs[i+1] == '|', c == '&' && i+1 < len(rs) && rs[i+1] == '&':
			last = "|"
			i += 2
			continue
		case c == '|':
			last = "|"
		case c == ' ' || c == '\t' || c == '\r':
		case c == '\n' || c == ';':
			if last == "`" {
				last = "x"
			}
			if c == ';' {
				last = ";"
			}
		default:
			last = "x"
		}
		i++
	}
	return len(stack) > 0 || last == "|" || last == "`"
}

func opener(c rune) rune {
	switch c {
	case '}':
		return '{'
	case ')':
		return '('
	}
	return '['
}

// tokenStart reports whether a '#' at i starts a comment: PowerShell only
// reads it as one at the start of a token.
func tokenStart(rs []rune, i int) bool {
	if i == 0 {
		return true
	}
	return strings.ContainsRune(" \t\r\n;|{}()&", rs[i-1])
}

// hereStart reports whether only blanks follow up to the end of the line
// (a here-string opener must end its line).
func hereStart(rs []rune, i int) bool {
	for ; i < len(rs); i++ {
		switch rs[i] {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return false
		}
	}
	return true // "@'" at the very end: the body is still to come
}

// hereEnd finds the line starting with quote+'@' after the opener's line
// and returns the index after it.
func hereEnd(rs []rune, i int, quote rune) (int, bool) {
	for i < len(rs) && rs[i] != '\n' {
		i++
	}
	for i < len(rs) {
		// i is at a '\n'; the next line starts at i+1.
		j := i + 1
		if j+1 < len(rs) && rs[j] == quote && rs[j+1] == '@' {
			return j + 2, true
		}
		i = j
		for i < len(rs) && rs[i] != '\n' {
			i++
		}
	}
	return 0, false
}

func indexRunes(rs []rune, from int, sub string) int {
	s := []rune(sub)
	for i := from; i+len(s) <= len(rs); i++ {
		match := true
		for k := range s {
			if rs[i+k] != s[k] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
