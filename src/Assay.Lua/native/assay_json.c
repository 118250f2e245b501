/*
 * assay_json.c — json.parse's decoder: JSON text straight onto the Lua stack, in one call from C#.
 *
 * Why C: decoding a document costs a few Lua API calls per value (push, rawset), and from C# each
 * one was a P/Invoke transition; a 20 KB document is thousands of them. Here the whole document
 * is one transition, strings without escapes are pushed straight from the source, and integers
 * and short decimals are converted without strtod.
 *
 * Contract (JsonDecoder.cs is the only caller):
 *  - the text is valid UTF-8 (the caller checks it first: its vectorised check is faster, and it
 *    reports invalid bytes before any syntax error);
 *  - nothing raises: called with the memory cap off (C# is in control), the calls made here
 *    (lua_createtable, lua_pushlstring, lua_rawset/rawseti on fresh tables, lua_setmetatable,
 *    lua_checkstack) cannot fail except on a real out-of-memory. On bad input the stack is put
 *    back and the return value is -1 with a message and a byte offset for "at line L column C".
 *  - a GC step inside a push may run __gc finalizers; they run protected (errors become warnings)
 *    on top of our frame, so they cannot disturb the values being built.
 *
 * Tables are created with a size hint: the size of the last container of the same kind that closed
 * at the same depth. Arrays of similar records (most JSON) then allocate each record's table once
 * instead of growing it 1, 2, 4, 8… as values arrive.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <locale.h>
#include "lua.h"

#define JSON_MAX_DEPTH 1000 /* LuaTables.MaxDepth */
#define JSON_HINT_CAP 64    /* larger hints would over-allocate when a sibling is much smaller */

typedef struct {
  int is_array;
  lua_Integer count;  /* values stored so far (a null member left out does not count) */
} jframe;

typedef struct {
  int arr, rec;       /* the last array / object closed at this depth: its size */
} jhint;

typedef struct {
  lua_State *L;
  const unsigned char *start, *p, *end;
  int null_index;     /* stack index of what a null becomes; 0 = the default rules */
  int object_mt;      /* stack index of the json.object marker metatable (for empty objects) */
  jframe *frames;     /* open containers; frames[depth - 1] is the innermost */
  jhint *hints;       /* per depth; valid up to `hinted` */
  int depth, cap, hinted;
  unsigned char *scratch; /* unescaped strings longer than the stack buffer */
  size_t scratch_len;
  const char *err;    /* set on failure (static text or errbuf) */
  const unsigned char *err_at;
  char errbuf[160];
} jparser;

/* 1 for bytes that end a plain run inside a string: '"', '\\' and control characters. */
static const unsigned char string_stop[256] = {
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
};

static int fail(jparser *P, const unsigned char *at, const char *msg) {
  P->err = msg;
  P->err_at = at;
  return 0;
}

/* Names the byte at `at` for a message: 'x' for visible ASCII, the whole character for UTF-8,
 * 0x0C for control bytes and space. */
static void describe_char(const unsigned char *at, const unsigned char *end, char *out, size_t n) {
  unsigned c = *at;
  if (c > 0x20 && c < 0x7f) { snprintf(out, n, "'%c'", c); return; }
  if (c >= 0x80) {
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (end - at < len) len = (int)(end - at);
    snprintf(out, n, "'%.*s'", len, (const char *)at);
    return;
  }
  snprintf(out, n, "0x%02X", c);
}

/* "unexpected X, <expected>" at `at`, or "unexpected end of input" there. */
static int unexpected(jparser *P, const unsigned char *at, const char *expected) {
  if (at >= P->end) return fail(P, P->end, "unexpected end of input");
  char what[16];
  describe_char(at, P->end, what, sizeof what);
  snprintf(P->errbuf, sizeof P->errbuf, "unexpected %s, %s", what, expected);
  return fail(P, at, P->errbuf);
}

static inline void skip_ws(jparser *P) {
  const unsigned char *p = P->p, *end = P->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  P->p = p;
}

/* ---- strings ---------------------------------------------------------------------------- */

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out, const unsigned char **bad) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    if (p + i >= end) { *bad = end; return 0; }
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else { *bad = p + i; return 0; }
    v = v << 4 | d;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) { o[0] = 0xC0 | cp >> 6; o[1] = 0x80 | (cp & 0x3F); return 2; }
  if (cp < 0x10000) { o[0] = 0xE0 | cp >> 12; o[1] = 0x80 | (cp >> 6 & 0x3F); o[2] = 0x80 | (cp & 0x3F); return 3; }
  o[0] = 0xF0 | cp >> 18; o[1] = 0x80 | (cp >> 12 & 0x3F); o[2] = 0x80 | (cp >> 6 & 0x3F); o[3] = 0x80 | (cp & 0x3F);
  return 4;
}

/* Unescapes the string body [from, close) into out (never longer than the source). */
static int unescape(jparser *P, const unsigned char *quote, const unsigned char *from, const unsigned char *close,
                    unsigned char *out, size_t *outlen) {
  unsigned char *o = out;
  const unsigned char *p = from;
  while (p < close) {
    if (*p != '\\') { *o++ = *p++; continue; }
    unsigned c = p[1];
    switch (c) {
      case '"': case '\\': case '/': *o++ = (unsigned char)c; p += 2; continue;
      case 'b': *o++ = '\b'; p += 2; continue;
      case 'f': *o++ = '\f'; p += 2; continue;
      case 'n': *o++ = '\n'; p += 2; continue;
      case 'r': *o++ = '\r'; p += 2; continue;
      case 't': *o++ = '\t'; p += 2; continue;
      case 'u': break;
      default: return unexpected(P, p + 1, "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    unsigned cp;
    const unsigned char *bad;
    if (!hex4(p + 2, close, &cp, &bad)) return unexpected(P, bad, "expected 4 hex digits after \\u");
    p += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail(P, quote, "invalid \\u escape: a low surrogate without a high surrogate before it");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      unsigned lo;
      if (close - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, close, &lo, &bad) || lo < 0xDC00 || lo > 0xDFFF)
        return fail(P, quote, "invalid \\u escape: a high surrogate without a low surrogate after it");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      p += 6;
    }
    o += put_utf8(o, cp);
  }
  *outlen = (size_t)(o - out);
  return 1;
}

/* Pushes the string starting at the opening quote P->p; leaves P->p after the closing quote. */
static int push_string(jparser *P) {
  const unsigned char *quote = P->p, *p = quote + 1, *end = P->end;
  int escaped = 0;
  for (;;) {
    while (p < end && !string_stop[*p]) p++;
    if (p >= end) return fail(P, end, "unexpected end of input inside a string");
    if (*p == '"') break;
    if (*p == '\\') {
      escaped = 1;
      if (p + 1 >= end) return fail(P, end, "unexpected end of input inside a string");
      p += 2; /* the escaped character cannot end the string; checked in unescape */
      continue;
    }
    return unexpected(P, p, "control characters must be escaped inside a string");
  }
  const unsigned char *from = quote + 1, *close = p;
  P->p = close + 1;
  size_t n = (size_t)(close - from);
  if (!escaped) {
    lua_pushlstring(P->L, (const char *)from, n);
    return 1;
  }
  unsigned char local[256], *out = local;
  if (n > sizeof local) {
    if (P->scratch_len < n) {
      unsigned char *grown = realloc(P->scratch, n);
      if (!grown) return fail(P, quote, "not enough memory");
      P->scratch = grown;
      P->scratch_len = n;
    }
    out = P->scratch;
  }
  size_t len = 0;
  if (!unescape(P, quote, from, close, out, &len)) return 0;
  lua_pushlstring(P->L, (const char *)out, len);
  return 1;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static const double exact_powers[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod on a NUL-terminated copy, read with '.' whatever the C locale says (as Lua does). */
static double slow_double(const unsigned char *s, size_t n, int *ok) {
  char local[64], *buf = n < sizeof local ? local : malloc(n + 1);
  if (!buf) { *ok = 0; return 0; }
  memcpy(buf, s, n);
  buf[n] = '\0';
  char point = localeconv()->decimal_point[0];
  if (point != '.') { char *dot = strchr(buf, '.'); if (dot) *dot = point; }
  char *stop;
  double d = strtod(buf, &stop);
  *ok = stop == buf + n;
  if (buf != local) free(buf);
  return d;
}

/* Pushes the number at P->p (RFC 8259 grammar). Integers that fit int64 stay integers; anything
 * with a fraction or exponent, or beyond int64, is a float. */
static int push_number(jparser *P) {
  const unsigned char *start = P->p, *p = start, *end = P->end;
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  if (p >= end) return fail(P, end, "unexpected end of input in a number");
  if (*p < '0' || *p > '9') return unexpected(P, p, "expected a digit after '-'");
  uint64_t mant = 0;
  int digits = 0;       /* significant digits gathered into mant (at most 19) */
  int dropped = 0;      /* significant digits beyond those 19: mant is not exact */
  int exp10 = 0;
  if (*p == '0') {
    p++;
    if (p < end && *p >= '0' && *p <= '9') return fail(P, p, "invalid number: leading zeros are not allowed");
  } else {
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
      if (digits < 19) { mant = mant * 10 + (*p - '0'); digits++; }
      else { dropped++; exp10++; }
    }
  }
  int is_float = 0;
  if (p < end && *p == '.') {
    is_float = 1;
    p++;
    if (p >= end || *p < '0' || *p > '9') return unexpected(P, p, "expected a digit after the decimal point");
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
      if (digits < 19) {
        if (mant == 0 && *p == '0') { exp10--; continue; } /* leading zeros of 0.00x are not significant */
        mant = mant * 10 + (*p - '0'); digits++; exp10--;
      } else dropped++;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    is_float = 1;
    p++;
    int eneg = 0;
    if (p < end && (*p == '+' || *p == '-')) { eneg = *p == '-'; p++; }
    if (p >= end || *p < '0' || *p > '9') return unexpected(P, p, "expected a digit in the exponent");
    int e = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) if (e < 100000) e = e * 10 + (*p - '0');
    exp10 += eneg ? -e : e;
  }
  P->p = p;
  if (!is_float && dropped == 0) {
    /* mant holds every digit: at most 19 of them, so no uint64 overflow */
    if (!neg && mant <= (uint64_t)INT64_MAX) { lua_pushinteger(P->L, (lua_Integer)mant); return 1; }
    if (neg && mant <= (uint64_t)INT64_MAX + 1) { lua_pushinteger(P->L, (lua_Integer)(0 - mant)); return 1; }
  }
  double d;
  /* Clinger's fast path: a mantissa below 2^53 times or divided by an exact power of ten is
   * correctly rounded by one IEEE operation. */
  if (dropped == 0 && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
    d = (double)mant;
    d = exp10 < 0 ? d / exact_powers[-exp10] : d * exact_powers[exp10];
    if (neg) d = -d;
  } else {
    int ok;
    d = slow_double(start, (size_t)(p - start), &ok);
    if (!ok) return fail(P, start, "invalid number");
  }
  if (d - d != 0) { /* inf: JSON has none, so a number too large for a double is an error */
    size_t n = (size_t)(p - start);
    snprintf(P->errbuf, sizeof P->errbuf, "number %.*s is out of range (beyond \xC2\xB1" "1.8e308)",
             (int)(n > 40 ? 40 : n), (const char *)start);
    return fail(P, start, P->errbuf);
  }
  lua_pushnumber(P->L, d);
  return 1;
}

/* ---- containers --------------------------------------------------------------------------- */

static int literal(jparser *P, const char *word, size_t n) {
  const unsigned char *p = P->p;
  if ((size_t)(P->end - p) < n) {
    if (memcmp(p, word, (size_t)(P->end - p)) == 0) return fail(P, P->end, "unexpected end of input");
  } else if (memcmp(p, word, n) == 0) {
    P->p = p + n;
    return 1;
  }
  snprintf(P->errbuf, sizeof P->errbuf, "invalid literal (expected %s)", word);
  return fail(P, p, P->errbuf);
}

/* Opens a table for '{' or '[' at P->p. */
static int open_container(jparser *P, int is_array) {
  if (P->depth >= JSON_MAX_DEPTH) return fail(P, P->p, "nesting deeper than 1000 levels");
  if (!lua_checkstack(P->L, 4)) return fail(P, P->p, "JSON nested too deeply for the Lua stack");
  if (P->depth == P->cap) {
    int cap = P->cap * 2;
    jframe *frames = malloc(sizeof(jframe) * cap);
    jhint *hints = malloc(sizeof(jhint) * cap);
    if (!frames || !hints) { free(frames); free(hints); return fail(P, P->p, "not enough memory"); }
    memcpy(frames, P->frames, sizeof(jframe) * P->cap);
    memcpy(hints, P->hints, sizeof(jhint) * P->cap);
    if (P->cap > 32) { free(P->frames); free(P->hints); } /* the first 32 live on the C stack */
    P->frames = frames;
    P->hints = hints;
    P->cap = cap;
  }
  int d = P->depth;
  if (d == P->hinted) { P->hints[d].arr = P->hints[d].rec = 0; P->hinted++; }
  if (is_array) lua_createtable(P->L, P->hints[d].arr, 0);
  else lua_createtable(P->L, 0, P->hints[d].rec);
  P->frames[d].is_array = is_array;
  P->frames[d].count = 0;
  P->depth++;
  P->p++;
  return 1;
}

/* Closes the innermost container (its table is on top). */
static void close_container(jparser *P) {
  int d = --P->depth;
  jframe *f = &P->frames[d];
  int size = f->count > JSON_HINT_CAP ? JSON_HINT_CAP : (int)f->count;
  if (f->is_array) P->hints[d].arr = size;
  else {
    P->hints[d].rec = size;
    if (f->count == 0) { /* {} keeps its shape: it re-encodes as {} rather than [] */
      lua_pushvalue(P->L, P->object_mt);
      lua_setmetatable(P->L, -2);
    }
  }
  P->p++;
}

/* Expects a member name at P->p (after '{' or ','), pushes it and consumes the ':'. */
static int member_name(jparser *P) {
  if (P->p >= P->end || *P->p != '"') return unexpected(P, P->p, "expected a property name in double quotes");
  if (!push_string(P)) return 0;
  skip_ws(P);
  if (P->p >= P->end || *P->p != ':') return unexpected(P, P->p, "expected ':' after a property name");
  P->p++;
  return 1;
}

/* Parses one JSON value (iteratively: nesting lives in P->frames and on the Lua stack). */
static int parse(jparser *P) {
  lua_State *L = P->L;
  for (;;) {
    /* a value is expected at P->p */
    skip_ws(P);
    if (P->p >= P->end) return fail(P, P->end, P->depth == 0 ? "empty input" : "unexpected end of input");
    int stored = 1; /* 0 when the value becomes nothing (a null member by default) */
    switch (*P->p) {
      case '{':
        if (!open_container(P, 0)) return 0;
        skip_ws(P);
        if (P->p < P->end && *P->p == '}') { close_container(P); break; }
        if (!member_name(P)) return 0;
        continue;
      case '[':
        if (!open_container(P, 1)) return 0;
        skip_ws(P);
        if (P->p < P->end && *P->p == ']') { close_container(P); break; }
        continue;
      case '"':
        if (!push_string(P)) return 0;
        break;
      case 't':
        if (!literal(P, "true", 4)) return 0;
        lua_pushboolean(L, 1);
        break;
      case 'f':
        if (!literal(P, "false", 5)) return 0;
        lua_pushboolean(L, 0);
        break;
      case 'n':
        if (!literal(P, "null", 4)) return 0;
        if (P->null_index) lua_pushvalue(L, P->null_index);
        else if (P->depth == 0) lua_pushnil(L);
        else if (P->frames[P->depth - 1].is_array) lua_pushlightuserdata(L, NULL); /* json.null keeps the length */
        else { lua_pop(L, 1); stored = 0; } /* a null member is left out: drop its name */
        break;
      default:
        if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9')) {
          if (!push_number(P)) return 0;
          break;
        }
        return unexpected(P, P->p, "expected a value");
    }
    /* a value is complete: store it, then go on after it (closing containers as they end) */
    for (;;) {
      if (P->depth == 0) return 1;
      jframe *f = &P->frames[P->depth - 1];
      if (stored) {
        f->count++;
        if (f->is_array) lua_rawseti(L, -2, f->count);
        else lua_rawset(L, -3);
      }
      stored = 1;
      skip_ws(P);
      if (P->p >= P->end) return fail(P, P->end, "unexpected end of input");
      unsigned c = *P->p;
      if (c == ',') {
        P->p++;
        skip_ws(P);
        if (P->p < P->end && *P->p == (f->is_array ? ']' : '}'))
          return fail(P, P->p, f->is_array ? "trailing comma in an array" : "trailing comma in an object");
        if (!f->is_array && !member_name(P)) return 0;
        break; /* next value */
      }
      if (c == (f->is_array ? ']' : '}')) { close_container(P); continue; }
      return unexpected(P, P->p, f->is_array ? "expected ',' or ']'" : "expected ',' or '}'");
    }
  }
}

/*
 * Parses text[0..len) and pushes the value (1), or leaves the stack as it was and returns -1 with
 * a message in errbuf and its byte offset in *erroff. null_index: stack index of the value every
 * null becomes (0 for the default rules); object_mt: stack index of the json.object metatable.
 */
int assay_json_decode(lua_State *L, const char *text, size_t len, int null_index, int object_mt,
                      char *errbuf, size_t errlen, size_t *erroff) {
  jframe frames[32];
  jhint hints[32];
  jparser P;
  P.L = L;
  P.start = P.p = (const unsigned char *)text;
  P.end = P.start + len;
  P.null_index = null_index;
  P.object_mt = object_mt;
  P.frames = frames;
  P.hints = hints;
  P.depth = P.hinted = 0;
  P.cap = 32;
  P.scratch = NULL;
  P.scratch_len = 0;
  P.err = NULL;
  P.err_at = P.start;
  int top = lua_gettop(L);
  int ok = parse(&P);
  if (ok) {
    skip_ws(&P);
    if (P.p < P.end) ok = unexpected(&P, P.p, "expected the end of the input after the JSON value");
  }
  if (P.cap > 32) { free(P.frames); free(P.hints); }
  free(P.scratch);
  if (ok) return 1;
  lua_settop(L, top);
  snprintf(errbuf, errlen, "%s", P.err);
  *erroff = (size_t)(P.err_at - P.start);
  return -1;
}
