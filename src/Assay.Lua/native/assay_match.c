/*
 * assay_match.c — Lua 5.4's pattern matching (string.find, match, gmatch, gsub), written for
 * Assay so that a long match can be interrupted.
 *
 * The standard matcher runs entirely inside one C call: no Lua instruction executes while it
 * backtracks, so the interrupt hook (Ctrl-C, deadlines) never fires, and a pattern such as
 * ('.-.-.-b' against 3,000 'a's) runs for minutes. This one behaves the same — same pattern
 * language, results and error messages — but counts its steps and every STEP_CHECK steps looks
 * at the VM's interrupt flag, raising the interrupt as a Lua error from C. Errors raised here
 * unwind only C and Lua frames: these functions are called from Lua code, never from C#.
 *
 * assay_install_patterns replaces the four functions in the string table (and so the string
 * methods, which index that table). Linked into the same library as assay_native.c.
 */
#include <ctype.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"

/* From assay_native.c: raises the pending interrupt, if any, as a Lua error. */
void assay_check_interrupt(lua_State *L);

#define ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAX_CAPTURES 32
#define MAX_DEPTH 200      /* nested match calls before "pattern too complex", as in Lua */
#define STEP_CHECK 4096    /* matcher steps between two looks at the interrupt flag */

#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)

typedef struct Matcher {
  lua_State *L;
  const char *src, *src_end;   /* the subject */
  const char *pat_end;
  int depth_left;              /* recursion budget */
  int steps;                   /* countdown to the next interrupt check */
  int level;                   /* captures opened so far */
  struct { const char *start; ptrdiff_t len; } cap[MAX_CAPTURES];
} Matcher;

static const char *do_match(Matcher *m, const char *s, const char *p);

static void step(Matcher *m) {
  if (--m->steps <= 0) {
    m->steps = STEP_CHECK;
    assay_check_interrupt(m->L);
  }
}

static void init_matcher(Matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
  m->L = L;
  m->src = s;
  m->src_end = s + ls;
  m->pat_end = p + lp;
  m->steps = STEP_CHECK;
}

/* Before each attempt at a new subject position. */
static void restart(Matcher *m) {
  m->level = 0;
  m->depth_left = MAX_DEPTH;
}

/* ---- character classes ----------------------------------------------------------------------- */

static int class_has(int c, int cl) {
  int in;
  switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break;   /* deprecated, but Lua 5.4 still has it */
    default: return cl == c;   /* an escaped ordinary character stands for itself */
  }
  return isupper(cl) ? !in : in != 0;
}

/* c against a set "[...]" spanning p (at '[') to last (at its ']'). */
static int set_has(int c, const char *p, const char *last) {
  int want = 1;
  if (p[1] == '^') { want = 0; p++; }
  while (++p < last) {
    if (*p == ESC) {
      p++;
      if (class_has(c, (unsigned char)*p)) return want;
    } else if (p[1] == '-' && p + 2 < last) {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return want;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return want;
    }
  }
  return !want;
}

/* The end of the single-character class starting at p. */
static const char *item_end(Matcher *m, const char *p) {
  char c = *p++;
  if (c == ESC) {
    if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (p < m->pat_end && *p == '^') p++;
    do {   /* the first character is taken as is, so "[]]" is a set holding ']' */
      if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (missing ']')");
      c = *p++;
      if (c == ESC && p < m->pat_end) p++;
    } while (p >= m->pat_end || *p != ']');
    return p + 1;
  }
  return p;
}

/* Whether the subject character at s matches the class p..ep. */
static int item_matches(Matcher *m, const char *s, const char *p, const char *ep) {
  if (s >= m->src_end) return 0;
  int c = (unsigned char)*s;
  switch (*p) {
    case '.': return 1;
    case ESC: return class_has(c, (unsigned char)p[1]);
    case '[': return set_has(c, p, ep - 1);
    default: return (unsigned char)*p == c;
  }
}

/* ---- the pieces of a pattern ------------------------------------------------------------------ */

/* %bxy: a balanced run from x to the matching y. */
static const char *balanced(Matcher *m, const char *s, const char *p) {
  if (p + 1 >= m->pat_end) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m->src_end || *s != p[0]) return NULL;
  char open = p[0], close = p[1];
  int depth = 1;
  while (++s < m->src_end) {
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      depth++;
    }
  }
  return NULL;
}

/* x*: as many as possible, then back off one at a time. */
static const char *greedy(Matcher *m, const char *s, const char *p, const char *ep) {
  ptrdiff_t n = 0;
  while (item_matches(m, s + n, p, ep)) { n++; step(m); }
  for (; n >= 0; n--) {
    const char *r = do_match(m, s + n, ep + 1);
    if (r) return r;
  }
  return NULL;
}

/* x-: as few as possible, one more at a time. */
static const char *lazy(Matcher *m, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *r = do_match(m, s, ep + 1);
    if (r) return r;
    if (!item_matches(m, s, p, ep)) return NULL;
    s++;
  }
}

static const char *open_capture(Matcher *m, const char *s, const char *p, ptrdiff_t kind) {
  if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
  m->cap[m->level].start = s;
  m->cap[m->level].len = kind;
  m->level++;
  const char *r = do_match(m, s, p);
  if (!r) m->level--;   /* undo */
  return r;
}

static const char *close_capture(Matcher *m, const char *s, const char *p) {
  int l = m->level - 1;
  while (l >= 0 && m->cap[l].len != CAP_UNFINISHED) l--;
  if (l < 0) luaL_error(m->L, "invalid pattern capture");
  m->cap[l].len = s - m->cap[l].start;
  const char *r = do_match(m, s, p);
  if (!r) m->cap[l].len = CAP_UNFINISHED;   /* undo */
  return r;
}

/* %1..%9: the text of an earlier capture again. */
static const char *back_reference(Matcher *m, const char *s, int digit) {
  int l = digit - '1';
  if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
    luaL_error(m->L, "invalid capture index %%%d", l + 1);
  size_t len = (size_t)m->cap[l].len;
  if ((size_t)(m->src_end - s) >= len && memcmp(m->cap[l].start, s, len) == 0) return s + len;
  return NULL;
}

/* Matches pattern p at subject position s: the end of the match, or NULL. */
static const char *do_match(Matcher *m, const char *s, const char *p) {
  if (m->depth_left-- == 0) luaL_error(m->L, "pattern too complex");
  step(m);
  while (p != m->pat_end) {
    const char *ep;
    switch (*p) {
      case '(':
        s = p + 1 < m->pat_end && p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION)
                                              : open_capture(m, s, p + 1, CAP_UNFINISHED);
        goto done;
      case ')':
        s = close_capture(m, s, p + 1);
        goto done;
      case '$':
        if (p + 1 == m->pat_end) {   /* anchor only at the very end of the pattern */
          s = s == m->src_end ? s : NULL;
          goto done;
        }
        break;
      case ESC:
        if (p + 1 < m->pat_end && p[1] == 'b') {
          s = balanced(m, s, p + 2);
          if (!s) goto done;
          p += 4;
          continue;
        }
        if (p + 1 < m->pat_end && p[1] == 'f') {   /* frontier: %f[set] */
          p += 2;
          if (p >= m->pat_end || *p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
          ep = item_end(m, p);
          int before = s == m->src ? 0 : (unsigned char)s[-1];
          int here = s < m->src_end ? (unsigned char)*s : 0;
          if (!set_has(before, p, ep - 1) && set_has(here, p, ep - 1)) {
            p = ep;
            continue;
          }
          s = NULL;
          goto done;
        }
        if (p + 1 < m->pat_end && isdigit((unsigned char)p[1])) {
          s = back_reference(m, s, (unsigned char)p[1]);
          if (!s) goto done;
          p += 2;
          continue;
        }
        break;
      default:
        break;
    }
    /* a single-character class, maybe followed by a repetition */
    ep = item_end(m, p);
    char rep = ep < m->pat_end ? *ep : '\0';
    if (!item_matches(m, s, p, ep)) {
      if (rep == '*' || rep == '?' || rep == '-') {   /* zero occurrences are fine */
        p = ep + 1;
        continue;
      }
      s = NULL;
      goto done;
    }
    switch (rep) {
      case '?': {
        const char *r = do_match(m, s + 1, ep + 1);
        if (r) { s = r; goto done; }
        p = ep + 1;
        continue;
      }
      case '+': s = greedy(m, s + 1, p, ep); goto done;
      case '*': s = greedy(m, s, p, ep); goto done;
      case '-': s = lazy(m, s, p, ep); goto done;
      default: s++; p = ep; continue;
    }
  }
done:
  m->depth_left++;
  return s;
}

/* ---- results ---------------------------------------------------------------------------------- */

/* Capture i (or the whole match s..e when the pattern has none and i is 0): its text in
 * *start, its length returned — or CAP_POSITION for a position capture. */
static ptrdiff_t get_capture(Matcher *m, int i, const char *s, const char *e, const char **start) {
  if (i >= m->level) {
    if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
    *start = s;
    return e - s;
  }
  ptrdiff_t len = m->cap[i].len;
  if (len == CAP_UNFINISHED) luaL_error(m->L, "unfinished capture");
  *start = m->cap[i].start;
  return len;
}

static void push_capture(Matcher *m, int i, const char *s, const char *e) {
  const char *start;
  ptrdiff_t len = get_capture(m, i, s, e, &start);
  if (len == CAP_POSITION)
    lua_pushinteger(m->L, (lua_Integer)(start - m->src) + 1);
  else
    lua_pushlstring(m->L, start, (size_t)len);
}

/* Pushes every capture; with s set and no captures in the pattern, the whole match. */
static int push_captures(Matcher *m, const char *s, const char *e) {
  int n = (m->level == 0 && s) ? 1 : m->level;
  luaL_checkstack(m->L, n, "too many captures");
  for (int i = 0; i < n; i++) push_capture(m, i, s, e);
  return n;
}

/* ---- string.find / string.match --------------------------------------------------------------- */

/* A 1-based, possibly negative position as an offset from the start (as Lua's posrelatI). */
static size_t start_offset(lua_Integer pos, size_t len) {
  if (pos > 0) return (size_t)pos - 1;
  if (pos == 0) return 0;
  if (pos < -(lua_Integer)len) return 0;
  return len + (size_t)pos;
}

static int has_specials(const char *p, size_t lp) {
  for (size_t i = 0; i < lp; i++)
    if (p[i] && strchr(SPECIALS, p[i])) return 1;
  return 0;
}

static const char *find_plain(const char *s, size_t ls, const char *p, size_t lp) {
  if (lp == 0) return s;
  if (lp > ls) return NULL;
  const char *last = s + (ls - lp);
  for (const char *at = s; (at = memchr(at, *p, (size_t)(last - at) + 1)) != NULL; at++)
    if (memcmp(at + 1, p + 1, lp - 1) == 0) return at;
  return NULL;
}

static int find_or_match(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    const char *at = find_plain(s + init, ls - init, p, lp);
    if (!at) {
      luaL_pushfail(L);
      return 1;
    }
    lua_pushinteger(L, (lua_Integer)(at - s) + 1);
    lua_pushinteger(L, (lua_Integer)(at - s) + (lua_Integer)lp);
    return 2;
  }
  Matcher m;
  int anchored = lp > 0 && *p == '^';
  if (anchored) { p++; lp--; }
  init_matcher(&m, L, s, ls, p, lp);
  const char *at = s + init;
  do {
    restart(&m);
    const char *e = do_match(&m, at, p);
    if (e) {
      if (!find) return push_captures(&m, at, e);
      lua_pushinteger(L, (lua_Integer)(at - s) + 1);
      lua_pushinteger(L, (lua_Integer)(e - s));
      return push_captures(&m, NULL, NULL) + 2;
    }
  } while (at++ < m.src_end && !anchored);
  luaL_pushfail(L);
  return 1;
}

static int str_find(lua_State *L) { return find_or_match(L, 1); }
static int str_match(lua_State *L) { return find_or_match(L, 0); }

/* ---- string.gmatch ---------------------------------------------------------------------------- */

typedef struct GMatch {
  Matcher m;
  const char *at;          /* where the next search starts */
  const char *pattern;
  const char *last_end;    /* end of the previous match: an empty match there is skipped */
} GMatch;

static int gmatch_next(lua_State *L) {
  GMatch *g = (GMatch *)lua_touserdata(L, lua_upvalueindex(3));
  g->m.L = L;   /* the iterator may be called from another coroutine than the one that made it */
  for (const char *at = g->at; at <= g->m.src_end; at++) {
    restart(&g->m);
    const char *e = do_match(&g->m, at, g->pattern);
    if (e && e != g->last_end) {
      g->at = g->last_end = e;
      return push_captures(&g->m, at, e);
    }
  }
  return 0;
}

static int str_gmatch(lua_State *L) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
  lua_settop(L, 2);   /* the strings stay alive as upvalues of the iterator */
  GMatch *g = (GMatch *)lua_newuserdatauv(L, sizeof(GMatch), 0);
  if (init > ls) init = ls + 1;   /* past the end: matches nothing */
  init_matcher(&g->m, L, s, ls, p, lp);
  g->at = s + init;
  g->pattern = p;
  g->last_end = NULL;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

/* ---- string.gsub ------------------------------------------------------------------------------ */

/* Appends the replacement string (argument 3) with its %0-%9 and %% expanded. */
static void add_template(Matcher *m, luaL_Buffer *b, const char *s, const char *e) {
  lua_State *L = m->L;
  size_t l;
  const char *r = lua_tolstring(L, 3, &l);
  const char *esc;
  while ((esc = memchr(r, ESC, l)) != NULL) {
    luaL_addlstring(b, r, (size_t)(esc - r));
    char c = esc[1];   /* the string is NUL-terminated, so this is safe at the end */
    if (c == ESC) {
      luaL_addchar(b, ESC);
    } else if (c == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit((unsigned char)c)) {
      const char *start;
      ptrdiff_t len = get_capture(m, c - '1', s, e, &start);
      if (len == CAP_POSITION) {   /* the position's number, as text */
        lua_pushinteger(L, (lua_Integer)(start - m->src) + 1);
        luaL_addvalue(b);
      } else {
        luaL_addlstring(b, start, (size_t)len);
      }
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", ESC);
    }
    l -= (size_t)(esc + 2 - r);
    r = esc + 2;
  }
  luaL_addlstring(b, r, l);
}

/* Appends the replacement for match s..e; returns whether it changed anything. */
static int add_replacement(Matcher *m, luaL_Buffer *b, const char *s, const char *e, int kind) {
  lua_State *L = m->L;
  if (kind == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(m, s, e);
    lua_call(L, n, 1);
  } else if (kind == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_template(m, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {   /* nil or false: keep the original text */
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1))
    return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int str_gsub(lua_State *L) {
  size_t ls, lp;
  const char *src = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *last_end = NULL;
  int kind = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
  luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE,
                   3, "string/function/table");
  int anchored = lp > 0 && *p == '^';
  if (anchored) { p++; lp--; }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  Matcher m;
  init_matcher(&m, L, src, ls, p, lp);
  lua_Integer n = 0;
  int changed = 0;
  while (n < max_n) {
    restart(&m);
    const char *e = do_match(&m, src, p);
    if (e && e != last_end) {
      n++;
      changed = add_replacement(&m, &b, src, e, kind) | changed;
      src = last_end = e;
    } else if (src < m.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchored) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);   /* nothing replaced: the subject itself */
  } else {
    luaL_addlstring(&b, src, (size_t)(m.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

/* Replaces string.find, match, gmatch and gsub in the global string table (luaL_openlibs first). */
void assay_install_patterns(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}, {NULL, NULL}};
  lua_getglobal(L, "string");
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}
