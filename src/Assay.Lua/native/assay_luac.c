/*
 * assay_luac.c — a build-time tool, not part of the binary: compiles one Lua file to bytecode with
 * lua_dump and writes it as hex text, which the source generator (src/Assay.SourceGenerators)
 * compiles into the assembly. The Lua that run at every start (bootstrap, preludes) then skip the
 * parser: loading their bytecode is several times cheaper than compiling their source.
 *
 * Linked against the same static liblua5.4.a as the NativeAOT binary, so the bytecode has the
 * format of the VM that loads it. Debug information is kept (strip = 0): the chunk name given
 * here is stored in the bytecode, so errors and tracebacks still say "[assay json]:12:".
 *
 * Usage: assay_luac CHUNKNAME INPUT.lua OUTPUT.hex   (exit 1 with a message on any error)
 */
#include <stdio.h>
#include <stdlib.h>
#include "lua.h"
#include "lauxlib.h"

typedef struct hex_out {
  FILE *f;
  size_t column;
} hex_out;

static int write_hex(lua_State *L, const void *p, size_t size, void *ud) {
  (void)L;
  hex_out *out = (hex_out *)ud;
  const unsigned char *bytes = (const unsigned char *)p;
  for (size_t i = 0; i < size; i++) {
    if (fprintf(out->f, "%02x", bytes[i]) != 2) return 1;
    if (++out->column == 64) { /* short lines keep the generated file diffable */
      if (fputc('\n', out->f) == EOF) return 1;
      out->column = 0;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: assay_luac CHUNKNAME INPUT.lua OUTPUT.hex\n");
    return 1;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  FILE *in = fopen(argv[2], "rb");
  if (in == NULL) {
    fprintf(stderr, "assay_luac: cannot read %s\n", argv[2]);
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t n;
  char chunk[4096];
  while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) luaL_addlstring(&b, chunk, n);
  fclose(in);
  luaL_pushresult(&b);
  size_t len;
  const char *src = lua_tolstring(L, -1, &len);
  if (luaL_loadbufferx(L, src, len, argv[1], "t") != LUA_OK) {
    fprintf(stderr, "assay_luac: %s: %s\n", argv[2], lua_tostring(L, -1));
    return 1;
  }
  hex_out out = {fopen(argv[3], "wb"), 0};
  if (out.f == NULL) {
    fprintf(stderr, "assay_luac: cannot write %s\n", argv[3]);
    return 1;
  }
  int failed = lua_dump(L, write_hex, &out, 0) != 0 || fputc('\n', out.f) == EOF;
  failed |= fclose(out.f) != 0;
  if (failed) {
    fprintf(stderr, "assay_luac: writing %s failed\n", argv[3]);
    remove(argv[3]);
    return 1;
  }
  lua_close(L);
  return 0;
}
