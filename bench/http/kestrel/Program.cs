// Bare Kestrel: the same hello-JSON response as bench/http/hello.lua, no Lua. Usage: KestrelHello PORT
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

var port = args.Length > 0 ? int.Parse(args[0]) : 8080;
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, port);
});
var app = builder.Build();
var body = """{"message":"Hello, World!"}"""u8.ToArray();
app.Run(ctx =>
{
    ctx.Response.ContentType = "application/json";
    ctx.Response.ContentLength = body.Length;
    return ctx.Response.Body.WriteAsync(body, 0, body.Length);
});
app.Run();
