using System.Globalization;
using System.Text;

namespace Floe.Stac;

/// <summary>
/// CQL2-text: a tokenizer and a recursive-descent parser (OR over AND over NOT over predicates), and the writing of
/// names and strings shared by the expression classes. Positions in messages count characters from 1.
/// </summary>
/// <remarks>
/// Strings are single-quoted with <c>''</c> for a quote (the standard's alternative <c>\'</c> is not taken, so that a
/// string may end in a backslash). Keywords are reserved: a property called <c>date</c> or <c>in</c> must be written
/// double-quoted. Functions, arithmetic, spatial, temporal and array operators are not supported.
/// </remarks>
internal sealed class Cql2Text
{
    private static readonly string[] Keywords = ["AND", "OR", "NOT", "BETWEEN", "IN", "LIKE", "IS", "NULL", "TRUE", "FALSE", "TIMESTAMP", "DATE"];

    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _next;

    private Cql2Text(string text)
    {
        _text = text;
        _tokens = Tokenize(text);
    }

    private enum TokenKind
    {
        End,
        Word,
        QuotedName,
        String,
        Number,
        LeftParen,
        RightParen,
        Comma,
        Operator,
    }

    private Token Current => _tokens[_next];

    public static Cql2Expression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Cql2Text(text);
        if (parser.Current.Kind == TokenKind.End)
        {
            throw new Cql2Exception("the filter is empty");
        }

        var expression = parser.ParseOr(0, "expected an expression");
        if (parser.Current.Kind != TokenKind.End)
        {
            throw parser.Error("expected AND, OR or the end of the filter", parser.Current);
        }

        return expression;
    }

    internal static void WriteName(StringBuilder text, string name)
    {
        if (IsBareName(name))
        {
            text.Append(name);
        }
        else
        {
            WriteQuoted(text, name, '"');
        }
    }

    internal static void WriteQuoted(StringBuilder text, string value, char quote)
    {
        text.Append(quote);
        foreach (var c in value)
        {
            text.Append(c);
            if (c == quote)
            {
                text.Append(c);
            }
        }

        text.Append(quote);
    }

    /// <summary>Text quoted in a message, shortened when long.</summary>
    internal static string Excerpt(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");

    private static bool IsKeyword(string word) => Array.Exists(Keywords, k => string.Equals(k, word, StringComparison.OrdinalIgnoreCase));

    private static bool IsNameStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsNamePart(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or ':';

    private static bool IsBareName(string name)
    {
        if (name.Length == 0 || !IsNameStart(name[0]) || IsKeyword(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsNamePart(c))
            {
                return false;
            }
        }

        return true;
    }

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                tokens.Add(new Token(TokenKind.End, i, i));
                return tokens;
            }

            var start = i;
            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            switch (c)
            {
                case '(':
                    tokens.Add(new Token(TokenKind.LeftParen, start, ++i));
                    break;
                case ')':
                    tokens.Add(new Token(TokenKind.RightParen, start, ++i));
                    break;
                case ',':
                    tokens.Add(new Token(TokenKind.Comma, start, ++i));
                    break;
                case '=' when next == '=':
                    throw new Cql2Exception($"unknown operator '==' at position {start + 1}; use '='");
                case '!' when next == '=':
                    throw new Cql2Exception($"unknown operator '!=' at position {start + 1}; use '<>'");
                case '=':
                    tokens.Add(new Token(TokenKind.Operator, start, ++i, Operator: Cql2Operator.Equal));
                    break;
                case '<':
                    var less = next switch
                    {
                        '=' => Cql2Operator.LessThanOrEqual,
                        '>' => Cql2Operator.NotEqual,
                        _ => Cql2Operator.LessThan,
                    };
                    i += less == Cql2Operator.LessThan ? 1 : 2;
                    tokens.Add(new Token(TokenKind.Operator, start, i, Operator: less));
                    break;
                case '>':
                    var greater = next == '=' ? Cql2Operator.GreaterThanOrEqual : Cql2Operator.GreaterThan;
                    i += greater == Cql2Operator.GreaterThan ? 1 : 2;
                    tokens.Add(new Token(TokenKind.Operator, start, i, Operator: greater));
                    break;
                case '\'':
                    var value = ReadQuoted(text, ref i, "string");
                    tokens.Add(new Token(TokenKind.String, start, i, value));
                    break;
                case '"':
                    var name = ReadQuoted(text, ref i, "property name");
                    if (name.Length == 0)
                    {
                        throw new Cql2Exception($"empty property name \"\" at position {start + 1}");
                    }

                    tokens.Add(new Token(TokenKind.QuotedName, start, i, name));
                    break;
                default:
                    if (StartsNumber(text, i))
                    {
                        var number = ReadNumber(text, ref i);
                        tokens.Add(new Token(TokenKind.Number, start, i, Number: number));
                    }
                    else if (IsNameStart(c))
                    {
                        while (i < text.Length && IsNamePart(text[i]))
                        {
                            i++;
                        }

                        tokens.Add(new Token(TokenKind.Word, start, i, text[start..i]));
                    }
                    else
                    {
                        throw new Cql2Exception($"unexpected character '{c}' at position {start + 1}");
                    }

                    break;
            }
        }
    }

    private static bool StartsNumber(string text, int i)
    {
        bool DigitAt(int at) => at < text.Length && char.IsAsciiDigit(text[at]);

        if (text[i] is '+' or '-')
        {
            i++;
        }

        return DigitAt(i) || (i < text.Length && text[i] == '.' && DigitAt(i + 1));
    }

    // [sign] digits [. digits] [e [sign] digits], or with the digits only after the point.
    private static double ReadNumber(string text, ref int i)
    {
        var start = i;
        if (text[i] is '+' or '-')
        {
            i++;
        }

        SkipDigits(text, ref i);
        if (i < text.Length && text[i] == '.')
        {
            i++;
            SkipDigits(text, ref i);
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            if (i < text.Length && text[i] is '+' or '-')
            {
                i++;
            }

            var digits = i;
            SkipDigits(text, ref i);
            if (i == digits)
            {
                throw new Cql2Exception($"malformed number '{Excerpt(text[start..i])}' at position {start + 1}: the exponent has no digits");
            }
        }

        var span = text.AsSpan(start, i - start);
        if (!double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new Cql2Exception($"number '{Excerpt(span.ToString())}' at position {start + 1} is out of range");
        }

        return value;
    }

    private static void SkipDigits(string text, ref int i)
    {
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
    }

    // A quoted string or name from the opening quote at i; a doubled quote stands for one.
    private static string ReadQuoted(string text, ref int i, string what)
    {
        var quote = text[i];
        var start = i++;
        StringBuilder? value = null;
        var segment = i;
        while (true)
        {
            if (i >= text.Length)
            {
                throw new Cql2Exception($"unterminated {what} starting at position {start + 1}: no closing {quote}");
            }

            if (text[i] != quote)
            {
                i++;
            }
            else if (i + 1 < text.Length && text[i + 1] == quote)
            {
                value ??= new StringBuilder();
                value.Append(text, segment, i + 1 - segment);
                i += 2;
                segment = i;
            }
            else
            {
                var result = value is null ? text[segment..i] : value.Append(text, segment, i - segment).ToString();
                i++;
                return result;
            }
        }
    }

    private static bool Is(Token token, string keyword) => token.Kind == TokenKind.Word && string.Equals(token.Text, keyword, StringComparison.OrdinalIgnoreCase);

    private string Describe(Token token) => token.Kind switch
    {
        TokenKind.End => "the end of the filter",
        _ => $"'{Excerpt(_text[token.Start..token.End])}'",
    };

    private Cql2Exception Error(string expected, Token found) => new($"{expected} at position {found.Start + 1}, found {Describe(found)}");

    private static string At(Token token) => $"at position {token.Start + 1}";

    private void Advance() => _next++;

    private Cql2Expression ParseOr(int depth, string expected)
    {
        var first = ParseAnd(depth, expected);
        if (!Is(Current, "OR"))
        {
            return first;
        }

        var args = new List<Cql2Expression> { first };
        while (Is(Current, "OR"))
        {
            Advance();
            args.Add(ParseAnd(depth, "expected an expression after OR"));
        }

        return new Cql2Or([.. args]);
    }

    private Cql2Expression ParseAnd(int depth, string expected)
    {
        var first = ParseNot(depth, expected);
        if (!Is(Current, "AND"))
        {
            return first;
        }

        var args = new List<Cql2Expression> { first };
        while (Is(Current, "AND"))
        {
            Advance();
            args.Add(ParseNot(depth, "expected an expression after AND"));
        }

        return new Cql2And([.. args]);
    }

    private Cql2Expression ParseNot(int depth, string expected)
    {
        if (depth > Cql2Expression.MaxDepth)
        {
            throw new Cql2Exception($"the filter nests deeper than {Cql2Expression.MaxDepth} levels {At(Current)}");
        }

        if (Is(Current, "NOT"))
        {
            Advance();
            return new Cql2Not(ParseNot(depth + 1, "expected an expression after NOT"));
        }

        return ParsePrimary(depth, expected);
    }

    private Cql2Expression ParsePrimary(int depth, string expected)
    {
        var open = Current;
        if (open.Kind == TokenKind.LeftParen)
        {
            Advance();
            var inner = ParseOr(depth + 1, "expected an expression after '('");
            if (Current.Kind != TokenKind.RightParen)
            {
                throw new Cql2Exception($"expected ')' {At(Current)} to close the '(' at position {open.Start + 1}, found {Describe(Current)}");
            }

            Advance();
            return inner;
        }

        var first = _next;
        var left = ParseScalar(expected);
        var leftText = $"'{Excerpt(_text[_tokens[first].Start.._tokens[_next - 1].End])}'";
        var token = Current;
        if (token.Kind == TokenKind.Operator)
        {
            Advance();
            var right = ParseScalar($"expected a value after '{Cql2Comparison.Symbol(token.Operator)}'");
            return Cql2Comparison.Create(token.Operator, left, right, At(token));
        }

        if (Is(token, "IS"))
        {
            Advance();
            var isNot = Is(Current, "NOT");
            if (isNot)
            {
                Advance();
            }

            if (!Is(Current, "NULL"))
            {
                throw Error(isNot ? "expected NULL after IS NOT" : "expected NULL or NOT NULL after IS", Current);
            }

            Advance();
            var isNull = new Cql2IsNull(left);
            return isNot ? new Cql2Not(isNull) : isNull;
        }

        var negated = Is(token, "NOT");
        if (negated)
        {
            Advance();
            token = Current;
            if (!Is(token, "LIKE") && !Is(token, "BETWEEN") && !Is(token, "IN"))
            {
                throw Error($"expected LIKE, BETWEEN or IN after {leftText} NOT", token);
            }
        }

        Cql2Expression predicate;
        if (Is(token, "LIKE"))
        {
            Advance();
            var patternToken = Current;
            var pattern = ParseScalar("expected a pattern after LIKE");
            if (pattern is not Cql2Literal { Kind: Cql2LiteralKind.String, Value: string text })
            {
                throw new Cql2Exception($"LIKE needs a quoted string pattern {At(patternToken)}, found {Describe(patternToken)}");
            }

            predicate = new Cql2Like(left, text, At(patternToken));
        }
        else if (Is(token, "BETWEEN"))
        {
            Advance();
            var low = ParseScalar("expected a lower bound after BETWEEN");
            if (!Is(Current, "AND"))
            {
                throw Error("expected AND after the lower bound of BETWEEN", Current);
            }

            Advance();
            var high = ParseScalar("expected an upper bound after BETWEEN ... AND");
            predicate = Cql2Between.Create(left, low, high, At(token));
        }
        else if (Is(token, "IN"))
        {
            Advance();
            if (Current.Kind != TokenKind.LeftParen)
            {
                throw Error("expected '(' after IN", Current);
            }

            Advance();
            var list = new List<Cql2Scalar>();
            while (true)
            {
                list.Add(ParseScalar(list.Count == 0 ? "expected a value in the IN list" : "expected a value after ',' in the IN list"));
                if (Current.Kind == TokenKind.Comma)
                {
                    Advance();
                }
                else if (Current.Kind == TokenKind.RightParen)
                {
                    Advance();
                    break;
                }
                else
                {
                    throw Error("expected ',' or ')' in the IN list", Current);
                }
            }

            predicate = new Cql2In(left, [.. list]);
        }
        else if (token.Kind == TokenKind.Word && !IsKeyword(token.Text))
        {
            throw new Cql2Exception($"unknown operator '{Excerpt(token.Text)}' {At(token)} after {leftText}");
        }
        else if (left is Cql2Literal { Kind: Cql2LiteralKind.Boolean, Value: bool constant })
        {
            // TRUE and FALSE may stand alone as conditions.
            return new Cql2Boolean(constant);
        }
        else
        {
            throw Error($"expected an operator (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS) after {leftText}", token);
        }

        return negated ? new Cql2Not(predicate) : predicate;
    }

    private Cql2Scalar ParseScalar(string expected)
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                Advance();
                return Cql2Literal.FromNumber(token.Number);
            case TokenKind.String:
                Advance();
                return Cql2Literal.FromString(token.Text);
            case TokenKind.QuotedName:
                Advance();
                return new Cql2Property(token.Text);
            case TokenKind.Word:
                break;
            default:
                throw Error(expected, token);
        }

        var word = token.Text;
        if (Is(token, "TRUE") || Is(token, "FALSE"))
        {
            Advance();
            return Cql2Literal.FromBoolean(Is(token, "TRUE"));
        }

        if (Is(token, "TIMESTAMP") || Is(token, "DATE"))
        {
            return ParseInstant(word.ToUpperInvariant());
        }

        if (IsKeyword(word))
        {
            throw Error(expected, token);
        }

        Advance();
        if (Current.Kind == TokenKind.LeftParen)
        {
            throw new Cql2Exception($"unsupported function '{Excerpt(word)}' {At(token)}; to use a property whose name has parentheses, double-quote it");
        }

        return new Cql2Property(word);
    }

    // TIMESTAMP('...') or DATE('...'), with the keyword current.
    private Cql2Literal ParseInstant(string keyword)
    {
        Advance();
        if (Current.Kind != TokenKind.LeftParen)
        {
            throw Error($"expected '(' after {keyword}", Current);
        }

        Advance();
        var value = Current;
        if (value.Kind != TokenKind.String)
        {
            throw Error($"expected a quoted {(keyword == "DATE" ? "date" : "timestamp")} after {keyword}(", value);
        }

        Advance();
        if (Current.Kind != TokenKind.RightParen)
        {
            throw Error($"expected ')' to close {keyword}(", Current);
        }

        Advance();
        return keyword == "DATE" ? Cql2Literal.ParseDate(value.Text, At(value)) : Cql2Literal.ParseTimestamp(value.Text, At(value));
    }

    /// <summary>A token: its kind, where it lies in the text (Start inclusive, End exclusive) and its value.</summary>
    private readonly record struct Token(TokenKind Kind, int Start, int End, string Text = "", double Number = 0, Cql2Operator Operator = default);
}
