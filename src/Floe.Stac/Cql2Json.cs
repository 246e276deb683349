using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Stac;

/// <summary>
/// CQL2-JSON: <c>{"op": ..., "args": [...]}</c> expressions over <c>{"property": ...}</c>, <c>{"timestamp": ...}</c>,
/// <c>{"date": ...}</c> and JSON literals. Messages name the place by its JSON path.
/// </summary>
/// <remarks>
/// Operator names match case-insensitively. <c>between</c> takes three arguments (value, low, high), or as in earlier
/// drafts of the standard two (value, [low, high]).
/// </remarks>
internal static class Cql2Json
{
    public static Cql2Expression Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            // Each expression level is an object and its args array. Duplicate keys are refused here, where they are
            // a JsonException, rather than later when a JsonObject would throw on first access.
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = (2 * Cql2Expression.MaxDepth) + 8, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new Cql2Exception($"the filter is not valid JSON: {e.Message}");
        }

        return Parse(node);
    }

    public static Cql2Expression Parse(JsonNode? json)
    {
        if (json is null)
        {
            throw new Cql2Exception("the filter is JSON null; expected a CQL2-JSON expression");
        }

        try
        {
            return Expression(json, 0);
        }
        catch (ArgumentException e)
        {
            // A parsed JsonObject builds its dictionary on first access and reports a duplicate key this way.
            throw new Cql2Exception($"the filter is not valid CQL2-JSON: {e.Message}");
        }
    }

    private static Cql2Expression Expression(JsonNode node, int depth)
    {
        if (depth > Cql2Expression.MaxDepth)
        {
            throw new Cql2Exception($"the filter nests deeper than {Cql2Expression.MaxDepth} levels at {node.GetPath()}");
        }

        if (node is JsonValue constant && constant.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return new Cql2Boolean(constant.GetValueKind() == JsonValueKind.True);
        }

        if (node is not JsonObject obj)
        {
            throw new Cql2Exception($"expected a CQL2-JSON expression object at {node.GetPath()}, found {Describe(node)}");
        }

        var where = $"at {obj.GetPath()}";
        if (!obj.TryGetPropertyValue("op", out var opNode))
        {
            throw new Cql2Exception(obj.ContainsKey("property")
                ? $"expected a condition {where}, found a bare property reference"
                : $"expected an object with \"op\" and \"args\" {where}");
        }

        if (opNode is not JsonValue opValue || !opValue.TryGetValue<string>(out var op))
        {
            throw new Cql2Exception($"\"op\" must be a string {where}");
        }

        var name = op.ToUpperInvariant();
        Cql2Operator? comparison = name switch
        {
            "=" => Cql2Operator.Equal,
            "<>" => Cql2Operator.NotEqual,
            "<" => Cql2Operator.LessThan,
            "<=" => Cql2Operator.LessThanOrEqual,
            ">" => Cql2Operator.GreaterThan,
            ">=" => Cql2Operator.GreaterThanOrEqual,
            _ => null,
        };
        if (comparison is null && name is not ("AND" or "OR" or "NOT" or "ISNULL" or "BETWEEN" or "IN" or "LIKE"))
        {
            throw new Cql2Exception($"unknown CQL2-JSON operator '{Cql2Text.Excerpt(op)}' {where}; supported are =, <>, <, <=, >, >=, and, or, not, isNull, between, in, like");
        }

        if (!obj.TryGetPropertyValue("args", out var argsNode) || argsNode is not JsonArray args)
        {
            throw new Cql2Exception($"'{op}' needs an \"args\" array {where}");
        }

        if (comparison is { } compareOp)
        {
            Count(op, args, 2);
            return Cql2Comparison.Create(compareOp, Scalar(Arg(args, 0)), Scalar(Arg(args, 1)), where);
        }

        switch (name)
        {
            case "AND" or "OR":
                if (args.Count < 2)
                {
                    throw new Cql2Exception($"'{op}' takes at least 2 arguments, got {args.Count} at {args.GetPath()}");
                }

                var operands = new Cql2Expression[args.Count];
                for (var i = 0; i < operands.Length; i++)
                {
                    operands[i] = Expression(Arg(args, i), depth + 1);
                }

                return name == "AND" ? new Cql2And(operands) : new Cql2Or(operands);
            case "NOT":
                Count(op, args, 1);
                return new Cql2Not(Expression(Arg(args, 0), depth + 1));
            case "ISNULL":
                Count(op, args, 1);
                return new Cql2IsNull(Scalar(Arg(args, 0)));
            case "BETWEEN":
                if (args.Count == 2 && args[1] is JsonArray bounds)
                {
                    Count(op, bounds, 2);
                    return Cql2Between.Create(Scalar(Arg(args, 0)), Scalar(Arg(bounds, 0)), Scalar(Arg(bounds, 1)), where);
                }

                Count(op, args, 3);
                return Cql2Between.Create(Scalar(Arg(args, 0)), Scalar(Arg(args, 1)), Scalar(Arg(args, 2)), where);
            case "IN":
                Count(op, args, 2);
                if (args[1] is not JsonArray { Count: > 0 } list)
                {
                    throw new Cql2Exception($"'in' needs a non-empty array of values as its second argument at {args.GetPath()}[1]");
                }

                var items = new Cql2Scalar[list.Count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = Scalar(Arg(list, i));
                }

                return new Cql2In(Scalar(Arg(args, 0)), items);
            default:
                Count(op, args, 2);
                var patternNode = Arg(args, 1);
                if (patternNode is not JsonValue patternValue || !patternValue.TryGetValue<string>(out var pattern))
                {
                    throw new Cql2Exception($"'like' needs a string pattern at {patternNode.GetPath()}, found {Describe(patternNode)}");
                }

                return new Cql2Like(Scalar(Arg(args, 0)), pattern, $"at {patternNode.GetPath()}");
        }
    }

    private static Cql2Scalar Scalar(JsonNode node)
    {
        var where = $"at {node.GetPath()}";
        switch (node)
        {
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.Number:
                        return Datum.TryGetNumber(value, out var number)
                            ? Cql2Literal.FromNumber(number)
                            : throw new Cql2Exception($"number {where} is out of range");
                    case JsonValueKind.String when value.TryGetValue<string>(out var text):
                        return Cql2Literal.FromString(text);
                    case JsonValueKind.True:
                        return Cql2Literal.FromBoolean(true);
                    case JsonValueKind.False:
                        return Cql2Literal.FromBoolean(false);
                    default:
                        throw new Cql2Exception($"expected a value {where}, found {Describe(node)}");
                }

            case JsonObject obj:
                if (obj.TryGetPropertyValue("property", out var property))
                {
                    return property is JsonValue nameValue && nameValue.TryGetValue<string>(out var name) && name.Length > 0
                        ? new Cql2Property(name)
                        : throw new Cql2Exception($"\"property\" must be a non-empty string {where}");
                }

                if (obj.TryGetPropertyValue("timestamp", out var timestamp))
                {
                    return timestamp is JsonValue timestampValue && timestampValue.TryGetValue<string>(out var timestampText)
                        ? Cql2Literal.ParseTimestamp(timestampText, where)
                        : throw new Cql2Exception($"\"timestamp\" must be a string such as '2021-02-27T00:00:00Z' {where}");
                }

                if (obj.TryGetPropertyValue("date", out var date))
                {
                    return date is JsonValue dateValue && dateValue.TryGetValue<string>(out var dateText)
                        ? Cql2Literal.ParseDate(dateText, where)
                        : throw new Cql2Exception($"\"date\" must be a string such as '2021-02-27' {where}");
                }

                if (obj.ContainsKey("op"))
                {
                    var op = obj["op"] is JsonValue opValue && opValue.TryGetValue<string>(out var opName) ? $"'{Cql2Text.Excerpt(opName)}'" : "that is not a string";
                    throw new Cql2Exception($"expected a property or value {where}, found an expression with op {op}; functions and arithmetic are not supported");
                }

                throw new Cql2Exception($"expected a property or value {where}, found an object without \"property\", \"timestamp\" or \"date\"");
            default:
                throw new Cql2Exception($"expected a property or value {where}, found {Describe(node)}");
        }
    }

    private static JsonNode Arg(JsonArray args, int index) =>
        args[index] ?? throw new Cql2Exception($"null is not a valid argument at {args.GetPath()}[{index}]");

    private static void Count(string op, JsonArray args, int expected)
    {
        if (args.Count != expected)
        {
            throw new Cql2Exception($"'{op}' takes {expected} argument{(expected == 1 ? "" : "s")}, got {args.Count} at {args.GetPath()}");
        }
    }

    private static string Describe(JsonNode node) => node switch
    {
        JsonArray => "an array",
        JsonObject => "an object",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.Number => $"the number {node.ToJsonString()}",
            JsonValueKind.String => "a string",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {node.ToJsonString()}",
            _ => "null",
        },
    };
}
