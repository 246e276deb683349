using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Floe.Stac;

/// <summary>
/// A CQL2 filter that cannot be used as given. The message is for the API user: it says what is wrong and where
/// (a character position counted from 1 in CQL2-text, a JSON path such as <c>$.args[1]</c> in CQL2-JSON).
/// </summary>
public sealed class Cql2Exception(string message) : Exception(message);

/// <summary>The comparison operators of basic CQL2.</summary>
public enum Cql2Operator
{
    Equal,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

/// <summary>What a <see cref="Cql2Literal"/> holds, and so the type of its <see cref="Cql2Literal.Value"/>.</summary>
public enum Cql2LiteralKind
{
    /// <summary>A <see cref="double"/>.</summary>
    Number,

    /// <summary>A <see cref="string"/>.</summary>
    String,

    /// <summary>A <see cref="bool"/>.</summary>
    Boolean,

    /// <summary>A UTC <see cref="DateTimeOffset"/>.</summary>
    Timestamp,

    /// <summary>A <see cref="DateOnly"/>; compared as midnight UTC.</summary>
    Date,
}

/// <summary>
/// An OGC CQL2 filter (conformance classes basic-cql2 and advanced-comparison-operators, plus TIMESTAMP and DATE
/// literals), parsed from CQL2-text or CQL2-JSON into an immutable tree that is evaluated against one item at a time.
/// </summary>
/// <remarks>
/// <para>
/// Evaluation follows the standard's three-valued logic: comparing a missing or null property, or values of
/// incompatible types (a number with a string, a boolean with anything but a boolean, an ordering of booleans), is
/// UNKNOWN; AND, OR and NOT are Kleene's; an item matches only when the whole filter is TRUE. JSON numbers compare
/// numerically, strings ordinally (by UTF-16 code unit), booleans only with <c>=</c> and <c>&lt;&gt;</c>. When one
/// side is a TIMESTAMP or DATE and the other a string, the string is read as an RFC 3339 date-time (or full-date) and
/// the two instants are compared; a DATE is midnight UTC. A JSON array or object value (for example a list of
/// keywords) compares as UNKNOWN with everything: there is no array containment here.
/// </para>
/// <para>
/// Property names may carry the STAC API prefix <c>properties.</c>; it is dropped when parsing, so
/// <c>properties.eo:cloud_cover</c> and <c>eo:cloud_cover</c> are the same property.
/// </para>
/// </remarks>
public abstract class Cql2Expression
{
    /// <summary>Deepest nesting of parentheses and NOTs (text) or expressions (JSON) accepted, so recursion stays bounded.</summary>
    internal const int MaxDepth = 128;

    private FrozenSet<string>? _properties;

    private protected Cql2Expression()
    {
    }

    /// <summary>Every property name the expression refers to, without a <c>properties.</c> prefix.</summary>
    public IReadOnlySet<string> Properties => _properties ??= CollectProperties();

    /// <summary>Parses CQL2-text, e.g. <c>eo:cloud_cover BETWEEN 0 AND 50 AND platform = 'sentinel-2a'</c>.</summary>
    /// <exception cref="Cql2Exception">The text is not a CQL2 expression this parser supports.</exception>
    public static Cql2Expression ParseText(string text) => Cql2Text.Parse(text);

    /// <summary>Parses CQL2-JSON, e.g. <c>{"op":"&lt;","args":[{"property":"eo:cloud_cover"},10]}</c>.</summary>
    /// <exception cref="Cql2Exception">The JSON is not a CQL2 expression this parser supports.</exception>
    public static Cql2Expression ParseJson(JsonNode? json) => Cql2Json.Parse(json);

    /// <summary>Parses JSON text, then reads it as CQL2-JSON.</summary>
    /// <exception cref="Cql2Exception">The text is not JSON, or not a CQL2 expression this parser supports.</exception>
    public static Cql2Expression ParseJson(string json) => Cql2Json.Parse(json);

    /// <summary>Whether an item matches: the expression is TRUE (not FALSE or UNKNOWN) for it.</summary>
    /// <param name="property">The item's value of a property, or null when it has none.</param>
    public bool Matches(Func<string, JsonNode?> property) => Evaluate(property) == true;

    /// <summary>The expression's value for an item: true, false, or null for UNKNOWN.</summary>
    /// <param name="property">The item's value of a property, or null when it has none.</param>
    public bool? Evaluate(Func<string, JsonNode?> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        return Eval(property) switch
        {
            Truth.True => true,
            Truth.False => false,
            _ => null,
        };
    }

    /// <summary>The CQL2-JSON form, a new node on each call; <see cref="ParseJson(JsonNode?)"/> reads it back.</summary>
    public abstract JsonNode ToJson();

    /// <summary>The CQL2-text form; <see cref="ParseText"/> reads it back.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Write(text);
        return text.ToString();
    }

    internal abstract Truth Eval(Func<string, JsonNode?> property);

    internal abstract void Write(StringBuilder text);

    internal abstract void Collect(HashSet<string> names);

    private protected static JsonObject Op(string op, params JsonNode?[] args) => new() { ["op"] = op, ["args"] = new JsonArray(args) };

    // AND and OR operands are parenthesised when they are themselves AND, OR or BETWEEN (whose own AND reads badly).
    private protected static void WriteJoined(StringBuilder text, Cql2Expression[] args, string separator)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                text.Append(separator);
            }

            if (args[i] is Cql2And or Cql2Or or Cql2Between)
            {
                text.Append('(');
                args[i].Write(text);
                text.Append(')');
            }
            else
            {
                args[i].Write(text);
            }
        }
    }

    private FrozenSet<string> CollectProperties()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        Collect(names);
        return names.ToFrozenSet(StringComparer.Ordinal);
    }
}

/// <summary>Predicates that CQL2-text can negate in place (<c>NOT LIKE</c>, <c>IS NOT NULL</c>, ...).</summary>
internal interface INegatable
{
    void Write(StringBuilder text, bool negated);
}

/// <summary><c>a AND b AND ...</c>: TRUE when all are, FALSE when any is, else UNKNOWN.</summary>
public sealed class Cql2And : Cql2Expression
{
    private readonly Cql2Expression[] _args;

    internal Cql2And(Cql2Expression[] args)
    {
        _args = args;
        Args = Array.AsReadOnly(args);
    }

    public IReadOnlyList<Cql2Expression> Args { get; }

    public override JsonNode ToJson() => Op("and", [.. _args.Select(a => a.ToJson())]);

    internal override Truth Eval(Func<string, JsonNode?> property)
    {
        var result = Truth.True;
        foreach (var arg in _args)
        {
            var value = arg.Eval(property);
            if (value == Truth.False)
            {
                return Truth.False;
            }

            if (value == Truth.Unknown)
            {
                result = Truth.Unknown;
            }
        }

        return result;
    }

    internal override void Write(StringBuilder text) => WriteJoined(text, _args, " AND ");

    internal override void Collect(HashSet<string> names)
    {
        foreach (var arg in _args)
        {
            arg.Collect(names);
        }
    }
}

/// <summary><c>a OR b OR ...</c>: TRUE when any is, FALSE when all are, else UNKNOWN.</summary>
public sealed class Cql2Or : Cql2Expression
{
    private readonly Cql2Expression[] _args;

    internal Cql2Or(Cql2Expression[] args)
    {
        _args = args;
        Args = Array.AsReadOnly(args);
    }

    public IReadOnlyList<Cql2Expression> Args { get; }

    public override JsonNode ToJson() => Op("or", [.. _args.Select(a => a.ToJson())]);

    internal override Truth Eval(Func<string, JsonNode?> property)
    {
        var result = Truth.False;
        foreach (var arg in _args)
        {
            var value = arg.Eval(property);
            if (value == Truth.True)
            {
                return Truth.True;
            }

            if (value == Truth.Unknown)
            {
                result = Truth.Unknown;
            }
        }

        return result;
    }

    internal override void Write(StringBuilder text) => WriteJoined(text, _args, " OR ");

    internal override void Collect(HashSet<string> names)
    {
        foreach (var arg in _args)
        {
            arg.Collect(names);
        }
    }
}

/// <summary><c>NOT a</c>: swaps TRUE and FALSE, keeps UNKNOWN.</summary>
public sealed class Cql2Not : Cql2Expression
{
    internal Cql2Not(Cql2Expression arg) => Arg = arg;

    public Cql2Expression Arg { get; }

    public override JsonNode ToJson() => Op("not", Arg.ToJson());

    internal override Truth Eval(Func<string, JsonNode?> property) => Arg.Eval(property) switch
    {
        Truth.True => Truth.False,
        Truth.False => Truth.True,
        _ => Truth.Unknown,
    };

    internal override void Write(StringBuilder text)
    {
        switch (Arg)
        {
            case INegatable predicate:
                predicate.Write(text, negated: true);
                break;
            case Cql2Boolean:
                text.Append("NOT ");
                Arg.Write(text);
                break;
            default:
                text.Append("NOT (");
                Arg.Write(text);
                text.Append(')');
                break;
        }
    }

    internal override void Collect(HashSet<string> names) => Arg.Collect(names);
}

/// <summary>A constant TRUE or FALSE standing as a whole condition.</summary>
public sealed class Cql2Boolean : Cql2Expression
{
    internal Cql2Boolean(bool value) => Value = value;

    public bool Value { get; }

    public override JsonNode ToJson() => JsonValue.Create(Value);

    internal override Truth Eval(Func<string, JsonNode?> property) => Value ? Truth.True : Truth.False;

    internal override void Write(StringBuilder text) => text.Append(Value ? "TRUE" : "FALSE");

    internal override void Collect(HashSet<string> names)
    {
    }
}

/// <summary><c>left op right</c> with one of <c>= &lt;&gt; &lt; &lt;= &gt; &gt;=</c>.</summary>
public sealed class Cql2Comparison : Cql2Expression
{
    private Cql2Comparison(Cql2Operator op, Cql2Scalar left, Cql2Scalar right)
    {
        Operator = op;
        Left = left;
        Right = right;
    }

    public Cql2Operator Operator { get; }

    public Cql2Scalar Left { get; }

    public Cql2Scalar Right { get; }

    public override JsonNode ToJson() => Op(Symbol(Operator), Left.ToJson(), Right.ToJson());

    internal static Cql2Comparison Create(Cql2Operator op, Cql2Scalar left, Cql2Scalar right, string where)
    {
        if (op is not (Cql2Operator.Equal or Cql2Operator.NotEqual) && (Cql2Literal.IsBoolean(left) || Cql2Literal.IsBoolean(right)))
        {
            throw new Cql2Exception($"'{Symbol(op)}' cannot order booleans {where}; only = and <> compare TRUE and FALSE");
        }

        return new Cql2Comparison(op, left, right);
    }

    internal static string Symbol(Cql2Operator op) => op switch
    {
        Cql2Operator.Equal => "=",
        Cql2Operator.NotEqual => "<>",
        Cql2Operator.LessThan => "<",
        Cql2Operator.LessThanOrEqual => "<=",
        Cql2Operator.GreaterThan => ">",
        _ => ">=",
    };

    internal override Truth Eval(Func<string, JsonNode?> property) => Datum.Compare(Operator, Left.Resolve(property), Right.Resolve(property));

    internal override void Write(StringBuilder text)
    {
        Left.Write(text);
        text.Append(' ').Append(Symbol(Operator)).Append(' ');
        Right.Write(text);
    }

    internal override void Collect(HashSet<string> names)
    {
        Left.Collect(names);
        Right.Collect(names);
    }
}

/// <summary><c>a IS NULL</c>: TRUE when the value is missing or JSON null (never UNKNOWN).</summary>
public sealed class Cql2IsNull : Cql2Expression, INegatable
{
    internal Cql2IsNull(Cql2Scalar value) => Value = value;

    public Cql2Scalar Value { get; }

    public override JsonNode ToJson() => Op("isNull", Value.ToJson());

    void INegatable.Write(StringBuilder text, bool negated)
    {
        Value.Write(text);
        text.Append(negated ? " IS NOT NULL" : " IS NULL");
    }

    internal override Truth Eval(Func<string, JsonNode?> property) => Value.IsMissing(property) ? Truth.True : Truth.False;

    internal override void Write(StringBuilder text) => ((INegatable)this).Write(text, negated: false);

    internal override void Collect(HashSet<string> names) => Value.Collect(names);
}

/// <summary><c>a BETWEEN low AND high</c>, inclusive: the same as <c>a &gt;= low AND a &lt;= high</c>.</summary>
public sealed class Cql2Between : Cql2Expression, INegatable
{
    private Cql2Between(Cql2Scalar value, Cql2Scalar low, Cql2Scalar high)
    {
        Value = value;
        Low = low;
        High = high;
    }

    public Cql2Scalar Value { get; }

    public Cql2Scalar Low { get; }

    public Cql2Scalar High { get; }

    public override JsonNode ToJson() => Op("between", Value.ToJson(), Low.ToJson(), High.ToJson());

    void INegatable.Write(StringBuilder text, bool negated)
    {
        Value.Write(text);
        text.Append(negated ? " NOT BETWEEN " : " BETWEEN ");
        Low.Write(text);
        text.Append(" AND ");
        High.Write(text);
    }

    internal static Cql2Between Create(Cql2Scalar value, Cql2Scalar low, Cql2Scalar high, string where)
    {
        if (Cql2Literal.IsBoolean(value) || Cql2Literal.IsBoolean(low) || Cql2Literal.IsBoolean(high))
        {
            throw new Cql2Exception($"BETWEEN cannot order booleans {where}");
        }

        return new Cql2Between(value, low, high);
    }

    internal override Truth Eval(Func<string, JsonNode?> property)
    {
        var value = Value.Resolve(property);
        var low = Datum.Compare(Cql2Operator.GreaterThanOrEqual, value, Low.Resolve(property));
        if (low == Truth.False)
        {
            return Truth.False;
        }

        var high = Datum.Compare(Cql2Operator.LessThanOrEqual, value, High.Resolve(property));
        if (high == Truth.False)
        {
            return Truth.False;
        }

        return low == Truth.True && high == Truth.True ? Truth.True : Truth.Unknown;
    }

    internal override void Write(StringBuilder text) => ((INegatable)this).Write(text, negated: false);

    internal override void Collect(HashSet<string> names)
    {
        Value.Collect(names);
        Low.Collect(names);
        High.Collect(names);
    }
}

/// <summary><c>a IN (x, y, ...)</c>: the same as <c>a = x OR a = y OR ...</c>.</summary>
public sealed class Cql2In : Cql2Expression, INegatable
{
    private readonly Cql2Scalar[] _list;

    internal Cql2In(Cql2Scalar value, Cql2Scalar[] list)
    {
        Value = value;
        _list = list;
        List = Array.AsReadOnly(list);
    }

    public Cql2Scalar Value { get; }

    public IReadOnlyList<Cql2Scalar> List { get; }

    public override JsonNode ToJson() => Op("in", Value.ToJson(), new JsonArray([.. _list.Select(item => item.ToJson())]));

    void INegatable.Write(StringBuilder text, bool negated)
    {
        Value.Write(text);
        text.Append(negated ? " NOT IN (" : " IN (");
        for (var i = 0; i < _list.Length; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            _list[i].Write(text);
        }

        text.Append(')');
    }

    internal override Truth Eval(Func<string, JsonNode?> property)
    {
        var value = Value.Resolve(property);
        if (value.Kind == DatumKind.Missing)
        {
            return Truth.Unknown;
        }

        var result = Truth.False;
        foreach (var item in _list)
        {
            var equal = Datum.Compare(Cql2Operator.Equal, value, item.Resolve(property));
            if (equal == Truth.True)
            {
                return Truth.True;
            }

            if (equal == Truth.Unknown)
            {
                result = Truth.Unknown;
            }
        }

        return result;
    }

    internal override void Write(StringBuilder text) => ((INegatable)this).Write(text, negated: false);

    internal override void Collect(HashSet<string> names)
    {
        Value.Collect(names);
        foreach (var item in _list)
        {
            item.Collect(names);
        }
    }
}

/// <summary>
/// <c>a LIKE 'pattern'</c>: <c>%</c> matches any run of characters, <c>_</c> exactly one, and <c>\</c> makes the
/// next character literal. Case-sensitive; UNKNOWN when the value is not a string.
/// </summary>
public sealed class Cql2Like : Cql2Expression, INegatable
{
    private readonly LikePattern _pattern;

    internal Cql2Like(Cql2Scalar value, string pattern, string where)
    {
        Value = value;
        Pattern = pattern;
        _pattern = LikePattern.Compile(pattern, where);
    }

    public Cql2Scalar Value { get; }

    /// <summary>The pattern as written, wildcards and escapes included.</summary>
    public string Pattern { get; }

    public override JsonNode ToJson() => Op("like", Value.ToJson(), JsonValue.Create(Pattern));

    void INegatable.Write(StringBuilder text, bool negated)
    {
        Value.Write(text);
        text.Append(negated ? " NOT LIKE " : " LIKE ");
        Cql2Text.WriteQuoted(text, Pattern, '\'');
    }

    internal override Truth Eval(Func<string, JsonNode?> property)
    {
        var value = Value.Resolve(property);
        if (value.Kind != DatumKind.String || value.Text is not { } text)
        {
            return Truth.Unknown;
        }

        return _pattern.Matches(text) ? Truth.True : Truth.False;
    }

    internal override void Write(StringBuilder text) => ((INegatable)this).Write(text, negated: false);

    internal override void Collect(HashSet<string> names) => Value.Collect(names);
}

/// <summary>An operand of a predicate: a <see cref="Cql2Property"/> or a <see cref="Cql2Literal"/>.</summary>
public abstract class Cql2Scalar
{
    private protected Cql2Scalar()
    {
    }

    /// <summary>The CQL2-JSON form, a new node on each call.</summary>
    public abstract JsonNode ToJson();

    /// <summary>The CQL2-text form.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        Write(text);
        return text.ToString();
    }

    internal abstract Datum Resolve(Func<string, JsonNode?> property);

    // Missing or JSON null, without reading the value (so a string is not materialised just to test it).
    internal virtual bool IsMissing(Func<string, JsonNode?> property) => false;

    internal abstract void Write(StringBuilder text);

    internal virtual void Collect(HashSet<string> names)
    {
    }
}

/// <summary>A reference to an item property by name.</summary>
public sealed class Cql2Property : Cql2Scalar
{
    /// <summary>The STAC API spelling of item properties, accepted and dropped.</summary>
    internal const string Prefix = "properties.";

    internal Cql2Property(string name) => Name = name.StartsWith(Prefix, StringComparison.Ordinal) && name.Length > Prefix.Length ? name[Prefix.Length..] : name;

    /// <summary>The property name, without a <c>properties.</c> prefix.</summary>
    public string Name { get; }

    // A name that itself starts with the prefix is written with one more, so that parsing it back drops only that one.
    internal string Spelling => Name.StartsWith(Prefix, StringComparison.Ordinal) ? Prefix + Name : Name;

    public override JsonNode ToJson() => new JsonObject { ["property"] = Spelling };

    internal override Datum Resolve(Func<string, JsonNode?> property) => Datum.FromNode(property(Name));

    internal override bool IsMissing(Func<string, JsonNode?> property) =>
        property(Name) is not { } node || (node is JsonValue value && value.GetValueKind() == JsonValueKind.Null);

    internal override void Write(StringBuilder text) => Cql2Text.WriteName(text, Spelling);

    internal override void Collect(HashSet<string> names) => names.Add(Name);
}

/// <summary>A number, string, boolean, TIMESTAMP or DATE, read once at parse time.</summary>
public sealed class Cql2Literal : Cql2Scalar
{
    private readonly Datum _datum;

    private Cql2Literal(Cql2LiteralKind kind, object value, Datum datum)
    {
        Kind = kind;
        Value = value;
        _datum = datum;
    }

    public Cql2LiteralKind Kind { get; }

    /// <summary>A <see cref="double"/>, <see cref="string"/>, <see cref="bool"/>, UTC <see cref="DateTimeOffset"/> or <see cref="DateOnly"/>, as <see cref="Kind"/> says.</summary>
    public object Value { get; }

    public override JsonNode ToJson() => Kind switch
    {
        Cql2LiteralKind.Number => JsonValue.Create((double)Value),
        Cql2LiteralKind.String => JsonValue.Create((string)Value),
        Cql2LiteralKind.Boolean => JsonValue.Create((bool)Value),
        Cql2LiteralKind.Timestamp => new JsonObject { ["timestamp"] = FormatTimestamp((DateTimeOffset)Value) },
        _ => new JsonObject { ["date"] = FormatDate((DateOnly)Value) },
    };

    internal static Cql2Literal FromNumber(double value) => new(Cql2LiteralKind.Number, value, Datum.FromNumber(value));

    internal static Cql2Literal FromString(string value) => new(Cql2LiteralKind.String, value, Datum.FromString(value));

    internal static Cql2Literal FromBoolean(bool value) => new(Cql2LiteralKind.Boolean, value, Datum.FromBoolean(value));

    internal static Cql2Literal ParseTimestamp(string text, string where)
    {
        if (!Rfc3339.TryParse(text, allowDate: false, out var ticks))
        {
            throw new Cql2Exception($"invalid TIMESTAMP '{Cql2Text.Excerpt(text)}' {where}: expected an RFC 3339 date and time such as '2021-02-27T00:00:00Z'");
        }

        return new Cql2Literal(Cql2LiteralKind.Timestamp, new DateTimeOffset(ticks, TimeSpan.Zero), Datum.FromInstant(ticks));
    }

    internal static Cql2Literal ParseDate(string text, string where)
    {
        if (text.Length != 10 || !Rfc3339.TryParse(text, allowDate: true, out var ticks))
        {
            throw new Cql2Exception($"invalid DATE '{Cql2Text.Excerpt(text)}' {where}: expected a date such as '2021-02-27'");
        }

        return new Cql2Literal(Cql2LiteralKind.Date, DateOnly.FromDateTime(new DateTime(ticks, DateTimeKind.Utc)), Datum.FromInstant(ticks));
    }

    internal static bool IsBoolean(Cql2Scalar scalar) => scalar is Cql2Literal { Kind: Cql2LiteralKind.Boolean };

    internal override Datum Resolve(Func<string, JsonNode?> property) => _datum;

    internal override void Write(StringBuilder text)
    {
        switch (Kind)
        {
            case Cql2LiteralKind.Number:
                text.Append(((double)Value).ToString("R", CultureInfo.InvariantCulture));
                break;
            case Cql2LiteralKind.String:
                Cql2Text.WriteQuoted(text, (string)Value, '\'');
                break;
            case Cql2LiteralKind.Boolean:
                text.Append((bool)Value ? "TRUE" : "FALSE");
                break;
            case Cql2LiteralKind.Timestamp:
                text.Append("TIMESTAMP('").Append(FormatTimestamp((DateTimeOffset)Value)).Append("')");
                break;
            default:
                text.Append("DATE('").Append(FormatDate((DateOnly)Value)).Append("')");
                break;
        }
    }

    private static string FormatTimestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string FormatDate(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

internal enum Truth : byte
{
    False,
    True,
    Unknown,
}

internal enum DatumKind : byte
{
    Missing,
    Number,
    String,
    Boolean,
    Instant,
    Other,
}

/// <summary>One operand value during evaluation, a struct so that matching an item does not box.</summary>
internal readonly struct Datum
{
    private Datum(DatumKind kind, double number = 0, long ticks = 0, string? text = null)
    {
        Kind = kind;
        Number = number;
        Ticks = ticks;
        Text = text;
    }

    public DatumKind Kind { get; }

    /// <summary>A number, or a boolean as 1 or 0.</summary>
    public double Number { get; }

    /// <summary>An instant as UTC ticks.</summary>
    public long Ticks { get; }

    public string? Text { get; }

    public static Datum FromNumber(double value) => new(DatumKind.Number, number: value);

    public static Datum FromBoolean(bool value) => new(DatumKind.Boolean, number: value ? 1 : 0);

    public static Datum FromString(string value) => new(DatumKind.String, text: value);

    public static Datum FromInstant(long ticks) => new(DatumKind.Instant, ticks: ticks);

    public static Datum FromNode(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return node is null ? default : new Datum(DatumKind.Other);
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.Number:
                return TryGetNumber(value, out var number) ? FromNumber(number) : new Datum(DatumKind.Other);
            case JsonValueKind.String:
                if (value.TryGetValue<string>(out var text))
                {
                    return FromString(text);
                }

                // Values built in code rather than parsed may hold dates directly.
                if (value.TryGetValue<DateTimeOffset>(out var offset))
                {
                    return FromInstant(offset.UtcTicks);
                }

                return value.TryGetValue<DateTime>(out var dateTime) ? FromInstant(dateTime.ToUniversalTime().Ticks) : new Datum(DatumKind.Other);
            case JsonValueKind.True:
                return FromBoolean(true);
            case JsonValueKind.False:
                return FromBoolean(false);
            case JsonValueKind.Null:
                return default;
            default:
                return new Datum(DatumKind.Other);
        }
    }

    /// <summary>
    /// A JSON number as a double. Parsed JSON converts directly; a JsonValue built from a CLR number only converts to
    /// its own type, so the common ones are tried in turn.
    /// </summary>
    public static bool TryGetNumber(JsonValue value, out double number)
    {
        if (value.TryGetValue(out number))
        {
            return double.IsFinite(number);
        }

        if (value.TryGetValue<long>(out var int64))
        {
            number = int64;
        }
        else if (value.TryGetValue<int>(out var int32))
        {
            number = int32;
        }
        else if (value.TryGetValue<decimal>(out var dec))
        {
            number = (double)dec;
        }
        else if (value.TryGetValue<float>(out var single))
        {
            number = single;
        }
        else if (value.TryGetValue<ulong>(out var uint64))
        {
            number = uint64;
        }
        else if (value.TryGetValue<uint>(out var uint32))
        {
            number = uint32;
        }
        else if (value.TryGetValue<short>(out var int16))
        {
            number = int16;
        }
        else if (value.TryGetValue<ushort>(out var uint16))
        {
            number = uint16;
        }
        else if (value.TryGetValue<byte>(out var uint8))
        {
            number = uint8;
        }
        else if (value.TryGetValue<sbyte>(out var int8))
        {
            number = int8;
        }
        else
        {
            number = 0;
            return false;
        }

        return double.IsFinite(number);
    }

    public static Truth Compare(Cql2Operator op, in Datum left, in Datum right)
    {
        if (!TryCompare(left, right, out var sign, out var ordered) || (!ordered && op is not (Cql2Operator.Equal or Cql2Operator.NotEqual)))
        {
            return Truth.Unknown;
        }

        var result = op switch
        {
            Cql2Operator.Equal => sign == 0,
            Cql2Operator.NotEqual => sign != 0,
            Cql2Operator.LessThan => sign < 0,
            Cql2Operator.LessThanOrEqual => sign <= 0,
            Cql2Operator.GreaterThan => sign > 0,
            _ => sign >= 0,
        };
        return result ? Truth.True : Truth.False;
    }

    // The sign of left - right, or false when the two do not compare (missing, different types, a string that is not an instant).
    private static bool TryCompare(in Datum left, in Datum right, out int sign, out bool ordered)
    {
        ordered = true;
        sign = 0;
        switch (left.Kind, right.Kind)
        {
            case (DatumKind.Number, DatumKind.Number):
                sign = left.Number.CompareTo(right.Number);
                return true;
            case (DatumKind.String, DatumKind.String):
                sign = string.CompareOrdinal(left.Text, right.Text);
                return true;
            case (DatumKind.Boolean, DatumKind.Boolean):
                ordered = false;
                sign = left.Number.Equals(right.Number) ? 0 : 1;
                return true;
            case (DatumKind.Instant, DatumKind.Instant):
                sign = left.Ticks.CompareTo(right.Ticks);
                return true;
            case (DatumKind.Instant, DatumKind.String):
                if (!Rfc3339.TryParse(right.Text, allowDate: true, out var rightTicks))
                {
                    return false;
                }

                sign = left.Ticks.CompareTo(rightTicks);
                return true;
            case (DatumKind.String, DatumKind.Instant):
                if (!Rfc3339.TryParse(left.Text, allowDate: true, out var leftTicks))
                {
                    return false;
                }

                sign = leftTicks.CompareTo(right.Ticks);
                return true;
            default:
                return false;
        }
    }
}

/// <summary>RFC 3339 date-times (and full-dates) to UTC ticks, strictly and without allocating.</summary>
internal static class Rfc3339
{
    public static bool TryParse(ReadOnlySpan<char> text, bool allowDate, out long utcTicks)
    {
        utcTicks = 0;
        if (text.Length < 10 || !Digits(text, 0, 4, out var year) || text[4] != '-' || !Digits(text, 5, 2, out var month)
            || text[7] != '-' || !Digits(text, 8, 2, out var day))
        {
            return false;
        }

        if (year < 1 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        var ticks = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc).Ticks;
        if (text.Length == 10)
        {
            utcTicks = ticks;
            return allowDate;
        }

        // Leap seconds (:60) are not representable and are rejected.
        if (text.Length < 20 || text[10] is not ('T' or 't' or ' ') || !Digits(text, 11, 2, out var hour) || text[13] != ':'
            || !Digits(text, 14, 2, out var minute) || text[16] != ':' || !Digits(text, 17, 2, out var second)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        ticks += (hour * TimeSpan.TicksPerHour) + (minute * TimeSpan.TicksPerMinute) + (second * TimeSpan.TicksPerSecond);
        var i = 19;
        if (text[i] == '.')
        {
            i++;
            var start = i;
            long fraction = 0;
            var scale = TimeSpan.TicksPerSecond;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                // Digits beyond a tick (100 ns) are dropped.
                if (scale > 1)
                {
                    scale /= 10;
                    fraction += (text[i] - '0') * scale;
                }

                i++;
            }

            if (i == start)
            {
                return false;
            }

            ticks += fraction;
        }

        if (i >= text.Length)
        {
            return false;
        }

        if (text[i] is 'Z' or 'z')
        {
            i++;
        }
        else if (text[i] is '+' or '-')
        {
            var sign = text[i] == '-' ? -1 : 1;
            if (text.Length - i != 6 || !Digits(text, i + 1, 2, out var offsetHours) || text[i + 3] != ':'
                || !Digits(text, i + 4, 2, out var offsetMinutes) || offsetHours > 23 || offsetMinutes > 59)
            {
                return false;
            }

            // Local time minus its offset is UTC.
            ticks -= sign * ((offsetHours * TimeSpan.TicksPerHour) + (offsetMinutes * TimeSpan.TicksPerMinute));
            i += 6;
        }
        else
        {
            return false;
        }

        if (i != text.Length || ticks < 0 || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        utcTicks = ticks;
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }

            value = (value * 10) + (text[i] - '0');
        }

        return true;
    }
}

/// <summary>A LIKE pattern split into literal characters and wildcards once, then matched with backtracking on the last %.</summary>
internal sealed class LikePattern
{
    private const char One = '_';
    private const char Any = '%';

    private readonly char[] _chars;
    private readonly bool[] _wildcard;

    private LikePattern(char[] chars, bool[] wildcard)
    {
        _chars = chars;
        _wildcard = wildcard;
    }

    public static LikePattern Compile(string pattern, string where)
    {
        var chars = new List<char>(pattern.Length);
        var wildcard = new List<bool>(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                if (++i == pattern.Length)
                {
                    throw new Cql2Exception($"LIKE pattern '{Cql2Text.Excerpt(pattern)}' {where} ends with an escape '\\' that has nothing to escape");
                }

                chars.Add(pattern[i]);
                wildcard.Add(false);
            }
            else
            {
                chars.Add(c);
                wildcard.Add(c is One or Any);
            }
        }

        return new LikePattern([.. chars], [.. wildcard]);
    }

    public bool Matches(string text)
    {
        int t = 0, p = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < _chars.Length && _wildcard[p] && _chars[p] == Any)
            {
                star = p++;
                resume = t;
            }
            else if (p < _chars.Length && (_wildcard[p] || _chars[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                // Let the last % swallow one more character and retry from there.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < _chars.Length && _wildcard[p] && _chars[p] == Any)
        {
            p++;
        }

        return p == _chars.Length;
    }
}
