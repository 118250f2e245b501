global using Xunit;
global using System.Text.Json.Nodes;
global using Assay.Engine.Tests.Infrastructure;
global using static Assay.Engine.Tests.Infrastructure.JsonExt;
