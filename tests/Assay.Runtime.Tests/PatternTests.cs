using System.Diagnostics;
using System.Text;
using Assay.Lua;
using Assay.Lua.Interop;

namespace Assay.Runtime.Tests;

/// <summary>
/// string.find/match/gmatch/gsub are Assay's own (native/assay_match.c, so that an interrupt can
/// stop a long match). They must answer exactly as Lua's: every case runs in a stock Lua state
/// (the same liblua5.4 with only its standard libraries) and in an Assay VM, and the transcripts must be equal.
/// </summary>
public class PatternTests
{
    /// <summary>Runs the cases and leaves one line per result in the global `transcript`.</summary>
    const string Transcript = """
        local function show(...)
          local t = {}
          for i = 1, select('#', ...) do
            local v = select(i, ...)
            t[i] = type(v) .. ':' .. tostring(v)
          end
          return table.concat(t, ',')
        end
        local out = {}
        local function describe(fn, args)
          local t = {}
          for i = 1, args.n do
            local a = args[i]
            t[i] = type(a) == 'string' and string.format('%q', a) or type(a) == 'number' and tostring(a) or type(a)
          end
          return fn .. '(' .. table.concat(t, ', ') .. ') -> '
        end
        local function case(fn, ...)
          local args = table.pack(...)
          out[#out + 1] = describe(fn, args)
          if fn == 'gmatch' then
            out[#out] = out[#out] .. show(pcall(function()
              local acc = {}
              for a, b in string.gmatch(table.unpack(args, 1, args.n)) do acc[#acc + 1] = show(a, b) end
              return table.concat(acc, ';')
            end))
          else
            out[#out] = out[#out] .. show(pcall(string[fn], table.unpack(args, 1, args.n)))
          end
        end
        local subjects = { '', 'hello world', 'a,b,,c', '  trim me  ', 'THE (quick) [brown] fox', 'x=1, y=22, z=333',
                           'aaa', 'f(a(b)c)d', 'THE (quick) fox', 'key = value', '\0a\0b', 'été ünï', 'a.b-c+d*e?f' }
        local patterns = { 'o', 'l+', 'l*', 'l-', 'l?', '^h', 'd$', '^$', '.', '%a+', '%A+', '%d+', '%s*', '%S+', '%w+',
          '%p', '%u%l', '%x+', '%c', '%g+', '[aeiou]', '[^aeiou]+', '[%a_][%w_]*', '[a-f]+', '[]]', '[^]]+', '[a-]+',
          '(%w+)=(%w+)', '()ll()', '(h)(e)(l)', '%f[%w]%w+', '%f[%W]', '%b()', '%b[]', '(a)%1', '((a)a)', '(.-)%s',
          '^(%s*)(.-)(%s*)$', 'x*$', '%.', '%-', 'a.b', '.-b', '(%a)(%a)%2', '\0', '%z', '[%]]', '[%a%-]+', 'ü',
          '%', '[a', '(', ')', '%b', '%f', '%fa', '%1', '(()', '%g', 'a$b' }
        for _, s in ipairs(subjects) do
          for _, p in ipairs(patterns) do
            case('find', s, p)
            case('find', s, p, 3)
            case('find', s, p, -4)
            case('find', s, p, 1, true)
            case('match', s, p)
            case('match', s, p, 2)
            case('gmatch', s, p)
            case('gsub', s, p, '<%0>')
            case('gsub', s, p, '%%%1', 2)
          end
        end
        case('find', 'abc', 'b', 10)
        case('find', 'abc', '', 4)
        case('find', 'abc', '', 5)
        case('match', 'abc', '()', 4)
        case('gmatch', 'abc', '()', 2)
        case('gmatch', 'abc', 'x*', 10)
        case('gsub', 'hello world', '%w+', '%2')
        case('gsub', 'hello world', '%w+', '%')
        case('gsub', 'hello world', '%w+', '%x')
        case('gsub', 'hello world', '(%w+)', function(w) return w:upper() end)
        case('gsub', 'hello world', '%w+', function() return false end)
        case('gsub', 'hello world', '%w+', function() return {} end)
        case('gsub', 'hello world', '%w+', { hello = 'HI', world = 42 })
        case('gsub', 'hello world', '()o', '%1')
        case('gsub', 'abc', '', '-')
        case('gsub', 'abc', '^', '-')
        case('gsub', 'abc', 'b*', '-')
        case('gsub', 'abc', '.', '%0%0', 0)
        case('gsub', 'abc', '.', '%0%0', -1)
        case('gsub', 'abc', '.', nil)
        case('gsub', 'abc', '.', 12)
        case('find', 'abc')
        case('find', {}, 'a')
        case('match', 'abc', 'b', 'x')
        case('match', string.rep('a', 300), string.rep('(a)', 33))
        case('match', string.rep('a', 300), string.rep('a?', 250))
        case('match', string.rep('(', 250), string.rep('%(', 250))
        case('match', 'x', string.rep('(', 40) .. 'x' .. string.rep(')', 40))
        -- random patterns over a small alphabet (a fixed generator, so both states see the same cases)
        local seed = 12345
        local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n + 1 end
        local atoms = { 'a', 'b', '.', '%a', '%d', '[ab]', '[^a]', '*', '+', '-', '?', '(', ')', '%1', '^', '$',
                        '%b()', '%f[%w]', '%', '[', ']', '()', ' ', '1', '%s' }
        local letters = { 'a', 'b', '1', ' ', '(', ')', 'c' }
        for _ = 1, 3000 do
          local p, s = {}, {}
          for i = 1, rand(7) do p[i] = atoms[rand(#atoms)] end
          for i = 1, rand(12) - 1 do s[i] = letters[rand(#letters)] end
          p, s = table.concat(p), table.concat(s)
          case('find', s, p)
          case('match', s, p)
          case('gmatch', s, p)
          case('gsub', s, p, '[%0]')
        end
        -- methods on strings go through the same table
        out[#out + 1] = show(('a1b2'):gsub('%d', '#'))
        transcript = table.concat(out, '\n')
        """;

    [Fact]
    public void AnswersExactlyAsStockLua()
    {
        using var h = new LuaHarness();
        using var stock = new StockLua();
        // the same chunk name as the harness, so positions in error messages read alike
        var expected = stock.Run(Transcript, "@test.lua", "transcript").Split('\n');

        h.Ok(Transcript);
        var actual = h.Eval("transcript")!.Split('\n');

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"case {i + 1}: stock Lua {expected[i]}, Assay {actual[i]}");
    }

    [Theory]
    [InlineData("string.find(string.rep('a', 3000), '.-.-.-b')")]
    [InlineData("string.gsub(string.rep('a', 3000), '.-.-.-b', 'x')")]
    [InlineData("for _ in string.gmatch(string.rep('a', 3000), '.-.-.-b') do end")]
    [InlineData("while true do pcall(string.match, string.rep('a', 3000), '(.-)(.-)(.-)b') end")]
    public void AnInterruptStopsALongMatch(string code)
    {
        using var h = new LuaHarness();
        using var deadline = new Timer(_ => h.Vm.Interrupt("deadline reached"), null, 200, Timeout.Infinite);
        var clock = Stopwatch.StartNew();
        h.Run(code);
        Assert.True(h.Vm.IsInterrupted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AnInterruptStopsLoopingFinalizers()
    {
        using var h = new LuaHarness();
        using var deadline = new Timer(_ => h.Vm.Interrupt("deadline reached"), null, 200, Timeout.Infinite);
        var clock = Stopwatch.StartNew();
        h.Run("""
            for i = 1, 3 do setmetatable({}, {__gc = function() while true do end end}) end
            collectgarbage()
            """);
        Assert.True(h.Vm.IsInterrupted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}

/// <summary>A Lua state with Lua's standard libraries only (its own string.find and friends): no Assay modules or patterns.</summary>
sealed unsafe class StockLua : IDisposable
{
    readonly IntPtr _L = LuaNative.assay_newstate(0);

    public StockLua() => LuaNative.luaL_openlibs(_L);

    /// <summary>Runs <paramref name="code"/> and returns the global <paramref name="global"/> as a string.</summary>
    public string Run(string code, string chunkName, string global)
    {
        var source = Encoding.UTF8.GetBytes(code);
        var name = Encoding.UTF8.GetBytes(chunkName + "\0");
        var L = new LuaState(_L);
        fixed (byte* s = source, n = name)
        {
            int status = LuaNative.luaL_loadbufferx(_L, s, (nuint)source.Length, n, null);
            if (status == LuaNative.LUA_OK) status = LuaNative.assay_pcall(_L, 0, 0, 0);
            Assert.True(status == LuaNative.LUA_OK, L.ToStringValue(-1));
        }
        L.PushGlobalTable();
        L.RawGetField(-1, global);
        var value = L.ToStringValue(-1) ?? throw new InvalidOperationException($"{global} is not a string");
        L.Pop(2);
        return value;
    }

    public void Dispose()
    {
        var vm = LuaNative.assay_vm_of(_L);
        LuaNative.assay_close(_L);
        LuaNative.assay_free(vm);
    }
}
