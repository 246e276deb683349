using System.Text;
using System.Text.Json.Nodes;

namespace Floe.Stac.Tests;

/// <summary>CQL2-text and CQL2-JSON parsing, evaluation with three-valued logic, round trips and error messages.</summary>
public sealed class Cql2Tests
{
    // Three items: a Sentinel-2 scene, a Landsat scene (whose datetime has an offset: 2021-01-01T01:00:00Z), and an
    // item with a null platform, an unparseable datetime, a string cloud cover and most properties missing.
    private static readonly JsonObject[] Items =
    [
        Item("""
            {"id": "s2", "eo:cloud_cover": 10, "platform": "sentinel-2a", "datetime": "2021-02-27T10:00:00Z",
             "landsat:wrs_row": 16, "flag": true, "h3:resolution": 5, "keywords": ["rain", "era5"],
             "floe:wet_fraction": 0.25, "avg(windSpeed)": 3.5, "title": "50% wet_day"}
            """),
        Item("""
            {"id": "l8", "eo:cloud_cover": 70, "platform": "landsat-8", "datetime": "2020-12-31T23:00:00-02:00",
             "landsat:wrs_row": 18, "flag": false, "h3:resolution": 7, "title": "plain"}
            """),
        Item("""{"id": "sparse", "platform": null, "datetime": "not a date", "eo:cloud_cover": "cloudy"}"""),
    ];

    // Valid filters in CQL2-text, for round trips and the fuzz.
    private static readonly string[] Corpus =
    [
        "eo:cloud_cover BETWEEN 0 AND 50",
        "landsat:wrs_row IN (15, 16, 17)",
        "\"avg(windSpeed)\" < 4",
        "NOT (a = 1 OR b <> 'x')",
        "platform LIKE 'sentinel%' AND title NOT LIKE '50\\% wet\\_day'",
        "datetime >= TIMESTAMP('2021-02-27T00:00:00Z') AND datetime < DATE('2021-03-01')",
        "properties.floe:wet_fraction > 0.25 OR h3:resolution IS NULL",
        "a IS NOT NULL AND b NOT IN ('x', 'it''s', -1.5e-3) AND c NOT BETWEEN .5 AND 5.",
        "(a = TRUE OR b = FALSE) AND NOT c <= +3",
        "\"date\" = 'x' AND \"a\"\"b\" >= 1e20",
        "TRUE",
        "NOT FALSE",
    ];

    public static TheoryData<string> CorpusData => [.. Corpus];

    [Theory]
    [InlineData("eo:cloud_cover BETWEEN 0 AND 50", "s2")]
    [InlineData("eo:cloud_cover NOT BETWEEN 0 AND 50", "l8")]
    [InlineData("eo:cloud_cover BETWEEN 10 AND 10", "s2")]
    [InlineData("landsat:wrs_row IN (15, 16, 17)", "s2")]
    [InlineData("landsat:wrs_row NOT IN (15, 16, 17)", "l8")]
    [InlineData("platform IN ('landsat-8', 'sentinel-2a')", "s2,l8")]
    [InlineData("\"avg(windSpeed)\" < 4", "s2")]
    [InlineData("NOT (eo:cloud_cover = 10 OR platform <> 'landsat-8')", "l8")]
    [InlineData("platform LIKE 'sentinel%'", "s2")]
    [InlineData("platform LIKE 'landsat-_'", "l8")]
    [InlineData("platform LIKE 'landsat_'", "")]
    [InlineData("platform LIKE '%'", "s2,l8")]
    [InlineData("platform NOT LIKE 'sentinel%'", "l8")]
    [InlineData("platform LIKE 'SENTINEL%'", "")]
    [InlineData("title LIKE '50\\% wet%'", "s2")]
    [InlineData("title LIKE '%wet\\_day'", "s2")]
    [InlineData("title LIKE '%t\\_d%'", "s2")]
    [InlineData("title LIKE 'wet'", "")]
    [InlineData("title LIKE '%a%n'", "l8")]
    [InlineData("platform IS NULL", "sparse")]
    [InlineData("platform IS NOT NULL", "s2,l8")]
    [InlineData("flag IS NULL", "sparse")]
    [InlineData("flag = TRUE", "s2")]
    [InlineData("flag <> TRUE", "l8")]
    [InlineData("datetime >= TIMESTAMP('2021-01-01T00:00:00Z')", "s2,l8")]
    [InlineData("datetime < TIMESTAMP('2021-01-01T00:00:00Z')", "")]
    [InlineData("TIMESTAMP('2021-01-01T01:00:00Z') = datetime", "l8")]
    [InlineData("datetime = TIMESTAMP('2020-12-31T20:00:00-05:00')", "l8")]
    [InlineData("datetime > DATE('2021-01-01')", "s2,l8")]
    [InlineData("datetime < DATE('2021-01-02')", "l8")]
    [InlineData("datetime BETWEEN DATE('2021-02-27') AND TIMESTAMP('2021-02-27T23:59:59Z')", "s2")]
    [InlineData("datetime >= '2021-01-01'", "s2,sparse")] // strings compare as strings, whatever they hold
    [InlineData("h3:resolution >= 5 AND h3:resolution < 7", "s2")]
    [InlineData("properties.h3:resolution = 7", "l8")]
    [InlineData("floe:wet_fraction > 0.2", "s2")]
    [InlineData("eo:cloud_cover > -5.5e0", "s2,l8")]
    [InlineData("eo:cloud_cover = 'cloudy'", "sparse")]
    [InlineData("keywords = 'rain'", "")]
    [InlineData("platform > 'm'", "s2")]
    [InlineData("eo:cloud_cover < 50 OR platform IS NULL", "s2,sparse")]
    [InlineData("eo:cloud_cover < 50 AND platform IS NULL", "")]
    [InlineData("NOT eo:cloud_cover < 50", "l8")]
    [InlineData("TRUE", "s2,l8,sparse")]
    [InlineData("FALSE", "")]
    [InlineData("NOT FALSE AND platform = 'landsat-8'", "l8")]
    [InlineData("platform like 'sentinel%' or eo:cloud_cover between 60 and 80", "s2,l8")]
    [InlineData("platform = 'landsat-8' OR flag = TRUE AND eo:cloud_cover < 50", "s2,l8")] // AND binds tighter than OR
    [InlineData("NOT flag = TRUE AND eo:cloud_cover > 50", "l8")] // NOT binds tighter than AND
    [InlineData("(platform = 'landsat-8' OR flag = TRUE) AND eo:cloud_cover < 50", "s2")]
    [InlineData("1 < 2", "s2,l8,sparse")]
    [InlineData("1 = '1'", "")]
    public void Text_filters_select_the_expected_items(string filter, string expected)
    {
        Assert.Equal(expected, Selected(Cql2Expression.ParseText(filter)));
    }

    [Fact]
    public void Comparisons_with_missing_properties_or_mixed_types_are_unknown_and_Kleene_logic_combines_them()
    {
        var sparse = Lookup(Items[2]);

        Assert.Null(Cql2Expression.ParseText("flag = TRUE").Evaluate(sparse)); // missing
        Assert.Null(Cql2Expression.ParseText("platform = 'x'").Evaluate(sparse)); // JSON null
        Assert.Null(Cql2Expression.ParseText("eo:cloud_cover < 50").Evaluate(sparse)); // string vs number
        Assert.Null(Cql2Expression.ParseText("datetime > TIMESTAMP('2021-01-01T00:00:00Z')").Evaluate(sparse)); // not an instant
        Assert.Null(Cql2Expression.ParseText("NOT flag = TRUE").Evaluate(sparse));
        Assert.Null(Cql2Expression.ParseText("flag = TRUE AND TRUE").Evaluate(sparse));
        Assert.False(Cql2Expression.ParseText("flag = TRUE AND FALSE").Evaluate(sparse));
        Assert.True(Cql2Expression.ParseText("flag = TRUE OR TRUE").Evaluate(sparse));
        Assert.Null(Cql2Expression.ParseText("flag = TRUE OR FALSE").Evaluate(sparse));
        Assert.True(Cql2Expression.ParseText("flag IS NULL").Evaluate(sparse));
        Assert.Null(Cql2Expression.ParseText("flag IN (TRUE, FALSE)").Evaluate(sparse));
        Assert.Null(Cql2Expression.ParseText("flag NOT IN (TRUE, FALSE)").Evaluate(sparse));
        Assert.False(Cql2Expression.ParseText("flag NOT IN (TRUE, FALSE)").Matches(sparse));
        Assert.Null(Cql2Expression.ParseText("platform LIKE '%'").Evaluate(sparse));

        var s2 = Lookup(Items[0]);
        Assert.Null(Cql2Expression.ParseText("flag = 1").Evaluate(s2)); // boolean vs number
        Assert.Null(Cql2Expression.ParseText("flag > flag").Evaluate(s2)); // booleans do not order
        Assert.True(Cql2Expression.ParseText("flag = flag").Evaluate(s2));
        Assert.Null(Cql2Expression.ParseText("keywords = keywords").Evaluate(s2)); // arrays never compare
        Assert.Null(Cql2Expression.ParseText("h3:resolution IN ('5', 6)").Evaluate(s2)); // one UNKNOWN, one FALSE
        Assert.True(Cql2Expression.ParseText("h3:resolution IN ('5', 5)").Evaluate(s2)); // one TRUE decides
        Assert.Null(Cql2Expression.ParseText("h3:resolution BETWEEN 1 AND 'z'").Evaluate(s2));
        Assert.False(Cql2Expression.ParseText("h3:resolution BETWEEN 6 AND 'z'").Evaluate(s2));
        Assert.False(Cql2Expression.ParseText("h3:resolution IS NULL").Evaluate(s2));
        Assert.False(Cql2Expression.ParseText("1 IS NULL").Evaluate(s2));
    }

    [Fact]
    public void Values_built_in_code_compare_like_parsed_ones()
    {
        var item = new JsonObject
        {
            ["int"] = 16,
            ["long"] = 16L,
            ["decimal"] = 16.5m,
            ["float"] = 16.5f,
            ["byte"] = (byte)16,
            ["when"] = new DateTimeOffset(2021, 2, 27, 10, 0, 0, TimeSpan.FromHours(1)),
            ["text"] = "2021-02-27T09:00:00Z",
            ["yes"] = true,
        };
        var lookup = Lookup(item);

        Assert.True(Cql2Expression.ParseText("int = 16 AND long = 16 AND byte = 16 AND decimal = 16.5 AND float = 16.5").Matches(lookup));
        Assert.True(Cql2Expression.ParseText("int IN (15, 16) AND int BETWEEN 16 AND 16.5 AND long < decimal").Matches(lookup));
        Assert.True(Cql2Expression.ParseText("when = TIMESTAMP('2021-02-27T09:00:00Z') AND when = text AND yes = TRUE").Matches(lookup));
        Assert.False(Cql2Expression.ParseText("int <> 16").Matches(lookup));
    }

    [Theory]
    [InlineData("x = 1", 1.0)]
    [InlineData("x = -2.5", -2.5)]
    [InlineData("x = 1e3", 1000.0)]
    [InlineData("x = 1.5E-3", 0.0015)]
    [InlineData("x = .5", 0.5)]
    [InlineData("x = 5.", 5.0)]
    [InlineData("x = +3", 3.0)]
    [InlineData("x=-7", -7.0)]
    public void Number_literals_parse_to_doubles(string filter, double expected)
    {
        var comparison = Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText(filter));
        var literal = Assert.IsType<Cql2Literal>(comparison.Right);
        Assert.Equal(Cql2LiteralKind.Number, literal.Kind);
        Assert.Equal(expected, Assert.IsType<double>(literal.Value));
        Assert.Equal("x", Assert.IsType<Cql2Property>(comparison.Left).Name);
    }

    [Fact]
    public void Every_text_construct_parses_to_its_node()
    {
        var text = Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText("name <> 'it''s'"));
        Assert.Equal(Cql2Operator.NotEqual, text.Operator);
        Assert.Equal("it's", Assert.IsType<Cql2Literal>(text.Right).Value);

        var ops = new[] { "=", "<>", "<", "<=", ">", ">=" }
            .Select(op => Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText($"a {op} 1")).Operator);
        Assert.Equal(
            [Cql2Operator.Equal, Cql2Operator.NotEqual, Cql2Operator.LessThan, Cql2Operator.LessThanOrEqual, Cql2Operator.GreaterThan, Cql2Operator.GreaterThanOrEqual],
            ops);

        var when = Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText("t > timestamp('2021-02-27T01:02:03.5+01:00')"));
        var instant = Assert.IsType<Cql2Literal>(when.Right);
        Assert.Equal(Cql2LiteralKind.Timestamp, instant.Kind);
        Assert.Equal(new DateTimeOffset(2021, 2, 27, 0, 2, 3, 500, TimeSpan.Zero), instant.Value);
        Assert.Equal(TimeSpan.Zero, ((DateTimeOffset)instant.Value).Offset);

        var day = Assert.IsType<Cql2Literal>(Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText("t < Date('2021-02-27')")).Right);
        Assert.Equal(Cql2LiteralKind.Date, day.Kind);
        Assert.Equal(new DateOnly(2021, 2, 27), day.Value);

        var yes = Assert.IsType<Cql2Literal>(Assert.IsType<Cql2Comparison>(Cql2Expression.ParseText("b = true")).Right);
        Assert.True(Assert.IsType<bool>(yes.Value));

        var between = Assert.IsType<Cql2Between>(Cql2Expression.ParseText("eo:cloud_cover between 0 and 50"));
        Assert.Equal("eo:cloud_cover", Assert.IsType<Cql2Property>(between.Value).Name);
        Assert.Equal(0.0, Assert.IsType<Cql2Literal>(between.Low).Value);
        Assert.Equal(50.0, Assert.IsType<Cql2Literal>(between.High).Value);

        var notBetween = Assert.IsType<Cql2Not>(Cql2Expression.ParseText("a NOT BETWEEN 1 AND 2"));
        Assert.IsType<Cql2Between>(notBetween.Arg);

        var inList = Assert.IsType<Cql2In>(Cql2Expression.ParseText("landsat:wrs_row in (15, 16, other)"));
        Assert.Equal(3, inList.List.Count);
        Assert.Equal("other", Assert.IsType<Cql2Property>(inList.List[2]).Name);
        Assert.IsType<Cql2In>(Assert.IsType<Cql2Not>(Cql2Expression.ParseText("a not in (1)")).Arg);

        var like = Assert.IsType<Cql2Like>(Cql2Expression.ParseText("title LIKE 'a\\%b_%'"));
        Assert.Equal("a\\%b_%", like.Pattern);
        Assert.IsType<Cql2Like>(Assert.IsType<Cql2Not>(Cql2Expression.ParseText("title Not Like 'x'")).Arg);

        Assert.IsType<Cql2IsNull>(Cql2Expression.ParseText("a is null"));
        Assert.IsType<Cql2IsNull>(Assert.IsType<Cql2Not>(Cql2Expression.ParseText("a IS NOT NULL")).Arg);
    }

    [Fact]
    public void And_and_or_are_flat_and_keep_precedence()
    {
        var or = Assert.IsType<Cql2Or>(Cql2Expression.ParseText("a = 1 AND b = 2 AND c = 3 OR d = 4 OR NOT e = 5"));
        Assert.Equal(3, or.Args.Count);
        Assert.Equal(3, Assert.IsType<Cql2And>(or.Args[0]).Args.Count);
        Assert.IsType<Cql2Comparison>(or.Args[1]);
        Assert.IsType<Cql2Comparison>(Assert.IsType<Cql2Not>(or.Args[2]).Arg);

        var grouped = Assert.IsType<Cql2And>(Cql2Expression.ParseText("(a = 1 OR b = 2) AND ((c = 3))"));
        Assert.IsType<Cql2Or>(grouped.Args[0]);
        Assert.IsType<Cql2Comparison>(grouped.Args[1]);

        Assert.IsType<Cql2Boolean>(Cql2Expression.ParseText("TRUE"));
        Assert.IsType<Cql2Boolean>(Assert.IsType<Cql2Not>(Cql2Expression.ParseText("not false")).Arg);
    }

    [Theory]
    [InlineData("eo:cloud_cover BETWEEN 0 AND 50", """{"op":"between","args":[{"property":"eo:cloud_cover"},0,50]}""")]
    [InlineData("eo:cloud_cover BETWEEN 0 AND 50", """{"op":"between","args":[{"property":"eo:cloud_cover"},[0,50]]}""")]
    [InlineData("eo:cloud_cover NOT BETWEEN 0 AND 50", """{"op":"not","args":[{"op":"between","args":[{"property":"eo:cloud_cover"},0,50]}]}""")]
    [InlineData("landsat:wrs_row IN (15, 16, 17)", """{"op":"in","args":[{"property":"landsat:wrs_row"},[15,16,17]]}""")]
    [InlineData("platform NOT IN ('landsat-8')", """{"op":"not","args":[{"op":"in","args":[{"property":"platform"},["landsat-8"]]}]}""")]
    [InlineData("\"avg(windSpeed)\" < 4", """{"op":"<","args":[{"property":"avg(windSpeed)"},4]}""")]
    [InlineData("NOT (eo:cloud_cover = 10 OR platform <> 'landsat-8')",
        """{"op":"not","args":[{"op":"or","args":[{"op":"=","args":[{"property":"eo:cloud_cover"},10]},{"op":"<>","args":[{"property":"platform"},"landsat-8"]}]}]}""")]
    [InlineData("platform LIKE 'sentinel%'", """{"op":"like","args":[{"property":"platform"},"sentinel%"]}""")]
    [InlineData("title LIKE '50\\% wet%'", """{"op":"like","args":[{"property":"title"},"50\\% wet%"]}""")]
    [InlineData("platform IS NULL", """{"op":"isNull","args":[{"property":"platform"}]}""")]
    [InlineData("platform IS NOT NULL", """{"op":"not","args":[{"op":"isNull","args":[{"property":"platform"}]}]}""")]
    [InlineData("datetime >= TIMESTAMP('2021-01-01T00:00:00Z')", """{"op":">=","args":[{"property":"datetime"},{"timestamp":"2021-01-01T00:00:00Z"}]}""")]
    [InlineData("datetime < DATE('2021-01-02')", """{"op":"<","args":[{"property":"datetime"},{"date":"2021-01-02"}]}""")]
    [InlineData("flag = TRUE AND h3:resolution >= 5 AND properties.floe:wet_fraction > 0.2",
        """{"op":"and","args":[{"op":"=","args":[{"property":"flag"},true]},{"op":">=","args":[{"property":"h3:resolution"},5]},{"op":">","args":[{"property":"properties.floe:wet_fraction"},0.2]}]}""")]
    [InlineData("eo:cloud_cover < 50 OR platform IS NULL",
        """{"op":"or","args":[{"op":"<","args":[{"property":"eo:cloud_cover"},50]},{"op":"isNull","args":[{"property":"platform"}]}]}""")]
    [InlineData("TRUE", "true")]
    [InlineData("NOT FALSE", """{"op":"not","args":[false]}""")]
    [InlineData("platform = 'landsat-8'", """{"op":"=","args":[{"property":"properties.platform"},"landsat-8"]}""")]
    public void Text_and_json_forms_are_the_same_filter(string text, string json)
    {
        var fromText = Cql2Expression.ParseText(text);
        var fromJson = Cql2Expression.ParseJson(json);

        Assert.Equal(Selected(fromText), Selected(fromJson));
        Assert.Equal(fromText.ToString(), fromJson.ToString());
        Assert.True(JsonNode.DeepEquals(fromText.ToJson(), fromJson.ToJson()), $"{fromText.ToJson().ToJsonString()} vs {fromJson.ToJson().ToJsonString()}");
        Assert.Equal(fromText.Properties.Order(StringComparer.Ordinal), fromJson.Properties.Order(StringComparer.Ordinal));
        foreach (var item in Items)
        {
            Assert.Equal(fromText.Evaluate(Lookup(item)), fromJson.Evaluate(Lookup(item)));
        }
    }

    [Fact]
    public void Json_parses_from_a_node_and_accepts_operator_names_in_any_case()
    {
        var node = JsonNode.Parse("""{"op":"AND","args":[{"op":"isnull","args":[{"property":"a"}]},{"op":"Like","args":[{"property":"b"},"x%"]}]}""");
        var and = Assert.IsType<Cql2And>(Cql2Expression.ParseJson(node));
        Assert.IsType<Cql2IsNull>(and.Args[0]);
        Assert.IsType<Cql2Like>(and.Args[1]);
        Assert.Equal("a IS NULL AND b LIKE 'x%'", and.ToString());
    }

    [Theory]
    [MemberData(nameof(CorpusData))]
    public void Text_and_json_forms_round_trip(string filter)
    {
        var expression = Cql2Expression.ParseText(filter);
        var text = expression.ToString();
        var json = expression.ToJson();

        var again = Cql2Expression.ParseText(text);
        Assert.Equal(text, again.ToString());
        Assert.True(JsonNode.DeepEquals(json, again.ToJson()));

        var fromJson = Cql2Expression.ParseJson(json);
        Assert.Equal(text, fromJson.ToString());
        var fromJsonText = Cql2Expression.ParseJson(json.ToJsonString());
        Assert.True(JsonNode.DeepEquals(json, fromJsonText.ToJson()));
        Assert.Equal(Selected(expression), Selected(fromJsonText));
    }

    [Theory]
    [InlineData("properties.eo:cloud_cover>=5 and not(x like 'a%')", "eo:cloud_cover >= 5 AND x NOT LIKE 'a%'")]
    [InlineData("a=1 or (b=2 and c=3)", "a = 1 OR (b = 2 AND c = 3)")]
    [InlineData("(a = 1 OR b = 2) AND NOT (c = 3 AND d = 4)", "(a = 1 OR b = 2) AND NOT (c = 3 AND d = 4)")]
    [InlineData("a between 1 and 2 and b = 1", "(a BETWEEN 1 AND 2) AND b = 1")]
    [InlineData("not (a is null)", "a IS NOT NULL")]
    [InlineData("NOT NOT a = 1", "NOT (NOT (a = 1))")]
    [InlineData("t = timestamp('2021-02-27T01:02:03.120+01:00')", "t = TIMESTAMP('2021-02-27T00:02:03.12Z')")]
    [InlineData("t = TIMESTAMP('2021-02-27t00:00:00z')", "t = TIMESTAMP('2021-02-27T00:00:00Z')")]
    [InlineData("t = TIMESTAMP('2021-02-27T00:00:00.123456789Z')", "t = TIMESTAMP('2021-02-27T00:00:00.1234567Z')")]
    [InlineData("d <> date('2021-02-27')", "d <> DATE('2021-02-27')")]
    [InlineData("x = 1.0 AND y = 1e20 AND z = -0.5", "x = 1 AND y = 1E+20 AND z = -0.5")]
    [InlineData("\"a b\" = 'it''s' AND \"DATE\" = 1 AND \"1st\" = 2 AND \"q\"\"q\" = 3 AND \"plain\" = 4", "\"a b\" = 'it''s' AND \"DATE\" = 1 AND \"1st\" = 2 AND \"q\"\"q\" = 3 AND plain = 4")]
    [InlineData("properties.properties.x = 1", "properties.properties.x = 1")]
    [InlineData("x IN ( 'a' ,TRUE,y )", "x IN ('a', TRUE, y)")]
    [InlineData("  a\t=\n1  ", "a = 1")]
    public void ToString_writes_canonical_text(string filter, string expected)
    {
        Assert.Equal(expected, Cql2Expression.ParseText(filter).ToString());
    }

    [Fact]
    public void ToJson_writes_standard_cql2_json()
    {
        AssertJson(
            """{"op":"and","args":[{"op":"between","args":[{"property":"eo:cloud_cover"},0,50]},{"op":"in","args":[{"property":"landsat:wrs_row"},[15,16.5,"x"]]},{"op":"not","args":[{"op":"isNull","args":[{"property":"t"}]}]},{"op":"<","args":[{"property":"t"},{"timestamp":"2021-02-27T00:00:00Z"}]},{"op":"not","args":[{"op":"like","args":[{"property":"p"},"a%"]}]},{"op":"=","args":[{"property":"d"},{"date":"2021-02-27"}]},{"op":"<>","args":[{"property":"b"},false]}]}""",
            Cql2Expression.ParseText("eo:cloud_cover BETWEEN 0 AND 50 AND landsat:wrs_row IN (15, 16.5, 'x') AND t IS NOT NULL AND t < TIMESTAMP('2021-02-27T00:00:00Z') AND p NOT LIKE 'a%' AND d = DATE('2021-02-27') AND b <> FALSE")
                .ToJson());

        // Each call builds new nodes, so callers may attach or change them.
        var expression = Cql2Expression.ParseText("a = 1");
        var first = expression.ToJson();
        first["op"] = "<>";
        AssertJson("""{"op":"=","args":[{"property":"a"},1]}""", expression.ToJson());
    }

    [Fact]
    public void Properties_lists_every_referenced_name_without_the_properties_prefix()
    {
        var expression = Cql2Expression.ParseText("properties.a = 1 AND (b IS NULL OR \"c d\" IN (e, 1)) AND f BETWEEN g AND 2 AND h LIKE 'x' AND NOT a < 0");
        Assert.Equal(["a", "b", "c d", "e", "f", "g", "h"], expression.Properties.Order(StringComparer.Ordinal));
        Assert.Empty(Cql2Expression.ParseText("TRUE AND 1 = 1").Properties);

        var json = Cql2Expression.ParseJson("""{"op":"=","args":[{"property":"properties.eo:cloud_cover"},{"property":"x"}]}""");
        Assert.Equal(["eo:cloud_cover", "x"], json.Properties.Order(StringComparer.Ordinal));

        // Lookups use the name without the prefix too.
        var asked = new List<string>();
        expression.Matches(name =>
        {
            asked.Add(name);
            return null;
        });
        Assert.DoesNotContain(asked, name => name.StartsWith("properties.", StringComparison.Ordinal));
        Assert.Contains("a", asked);
    }

    [Fact]
    public void Matching_numbers_in_parsed_items_does_not_allocate()
    {
        var expression = Cql2Expression.ParseText("eo:cloud_cover BETWEEN 0 AND 50 AND h3:resolution IN (5, 7) AND NOT landsat:wrs_row > 20 AND flag = TRUE AND platform IS NOT NULL");
        var item = Items[0];
        Func<string, JsonNode?> lookup = name => item.TryGetPropertyValue(name, out var value) ? value : null;
        Assert.True(expression.Matches(lookup));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var matches = 0;
        for (var i = 0; i < 1000; i++)
        {
            matches += expression.Matches(lookup) ? 1 : 0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1000, matches);
    }

    [Theory]
    [InlineData("", "the filter is empty")]
    [InlineData("  \t ", "the filter is empty")]
    [InlineData("eo:cloud_cover > ", "expected a value after '>' at position 18, found the end of the filter")]
    [InlineData("eo:cloud_cover > )", "expected a value after '>' at position 18, found ')'")]
    [InlineData("a = 1 AND", "expected an expression after AND at position 10, found the end of the filter")]
    [InlineData("a = 1 OR", "expected an expression after OR at position 9")]
    [InlineData("NOT", "expected an expression after NOT at position 4")]
    [InlineData("(a = 1", "expected ')' at position 7 to close the '(' at position 1, found the end of the filter")]
    [InlineData("(a = 1 b", "expected ')' at position 8 to close the '(' at position 1, found 'b'")]
    [InlineData("a = 1)", "expected AND, OR or the end of the filter at position 6, found ')'")]
    [InlineData("a = 1 b = 2", "expected AND, OR or the end of the filter at position 7, found 'b'")]
    [InlineData("a = 'abc", "unterminated string starting at position 5")]
    [InlineData("a = 'it''s", "unterminated string starting at position 5")]
    [InlineData("\"abc = 1", "unterminated property name starting at position 1")]
    [InlineData("\"\" = 1", "empty property name \"\" at position 1")]
    [InlineData("a != 1", "unknown operator '!=' at position 3; use '<>'")]
    [InlineData("a == 1", "unknown operator '==' at position 3; use '='")]
    [InlineData("a LIKES 'x'", "unknown operator 'LIKES' at position 3 after 'a'")]
    [InlineData("a ~ 1", "unexpected character '~' at position 3")]
    [InlineData("a = 1 - 2", "unexpected character '-' at position 7")]
    [InlineData("a", "after 'a' at position 2, found the end of the filter")]
    [InlineData("TIMESTAMP('2021-01-01T00:00:00Z')", "after 'TIMESTAMP('2021-01-01T00:00:00Z')' at position 34")]
    [InlineData("a AND b", "expected an operator (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS) after 'a' at position 3, found 'AND'")]
    [InlineData("AND = 1", "expected an expression at position 1, found 'AND'")]
    [InlineData("a = OR", "expected a value after '=' at position 5, found 'OR'")]
    [InlineData("t > TIMESTAMP('2021-13-01T00:00:00Z')", "invalid TIMESTAMP '2021-13-01T00:00:00Z' at position 15")]
    [InlineData("t > TIMESTAMP('2021-02-27')", "invalid TIMESTAMP '2021-02-27' at position 15: expected an RFC 3339 date and time")]
    [InlineData("t > TIMESTAMP('2021-02-27T25:00:00Z')", "invalid TIMESTAMP")]
    [InlineData("t > TIMESTAMP('2021-02-27T00:00:00')", "invalid TIMESTAMP")]
    [InlineData("t > TIMESTAMP('0001-01-01T00:00:00+01:00')", "invalid TIMESTAMP")]
    [InlineData("t > TIMESTAMP '2021-02-27T00:00:00Z'", "expected '(' after TIMESTAMP at position 15")]
    [InlineData("t > TIMESTAMP(", "expected a quoted timestamp after TIMESTAMP( at position 15, found the end of the filter")]
    [InlineData("t > TIMESTAMP('2021-02-27T00:00:00Z'", "expected ')' to close TIMESTAMP( at position 37")]
    [InlineData("t > DATE('2021-02-30')", "invalid DATE '2021-02-30' at position 10: expected a date such as '2021-02-27'")]
    [InlineData("t > DATE('2021-02-27T00:00:00Z')", "invalid DATE '2021-02-27T00:00:00Z' at position 10")]
    [InlineData("t > DATE(2021)", "expected a quoted date after DATE( at position 10, found '2021'")]
    [InlineData("a BETWEEN 1 OR 2", "expected AND after the lower bound of BETWEEN at position 13, found 'OR'")]
    [InlineData("a BETWEEN 1", "expected AND after the lower bound of BETWEEN at position 12, found the end of the filter")]
    [InlineData("a BETWEEN TRUE AND 2", "BETWEEN cannot order booleans at position 3")]
    [InlineData("a IN 1, 2", "expected '(' after IN at position 6, found '1'")]
    [InlineData("a IN ()", "expected a value in the IN list at position 7, found ')'")]
    [InlineData("a IN (1 2)", "expected ',' or ')' in the IN list at position 9, found '2'")]
    [InlineData("a IN (1,", "expected a value after ',' in the IN list at position 9")]
    [InlineData("a LIKE b", "LIKE needs a quoted string pattern at position 8, found 'b'")]
    [InlineData("a LIKE 5", "LIKE needs a quoted string pattern at position 8, found '5'")]
    [InlineData("a LIKE 'x\\'", "LIKE pattern 'x\\' at position 8 ends with an escape")]
    [InlineData("a IS 1", "expected NULL or NOT NULL after IS at position 6, found '1'")]
    [InlineData("a IS NOT", "expected NULL after IS NOT at position 9")]
    [InlineData("a NOT = 1", "expected LIKE, BETWEEN or IN after 'a' NOT at position 7, found '='")]
    [InlineData("flag < TRUE", "'<' cannot order booleans at position 6")]
    [InlineData("avg(windSpeed) < 4", "unsupported function 'avg' at position 1")]
    [InlineData("S_INTERSECTS(geometry, POINT(1 2))", "unsupported function 'S_INTERSECTS' at position 1")]
    [InlineData("a = 1e", "malformed number '1e' at position 5")]
    [InlineData("a = 1e999", "number '1e999' at position 5 is out of range")]
    [InlineData("a = 'x' 'y'", "found ''y''")]
    public void Text_errors_say_what_and_where(string filter, string message)
    {
        var error = Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseText(filter));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var parens = new string('(', 10_000) + "a = 1" + new string(')', 10_000);
        Assert.Contains("nests deeper than 128 levels", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseText(parens)).Message, StringComparison.Ordinal);

        var nots = string.Concat(Enumerable.Repeat("NOT ", 10_000)) + "a = 1";
        Assert.Contains("nests deeper than 128 levels", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseText(nots)).Message, StringComparison.Ordinal);

        // 100 levels is fine.
        var ok = Cql2Expression.ParseText(new string('(', 100) + "a = 1" + new string(')', 100) + " AND " + string.Concat(Enumerable.Repeat("NOT ", 100)) + "b = 1");
        Assert.Equal(["a", "b"], ok.Properties.Order(StringComparer.Ordinal));

        JsonNode deep = new JsonObject { ["op"] = "isNull", ["args"] = new JsonArray(new JsonObject { ["property"] = "a" }) };
        for (var i = 0; i < 200; i++)
        {
            deep = new JsonObject { ["op"] = "not", ["args"] = new JsonArray(deep) };
        }

        Assert.Contains("nests deeper than 128 levels", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(deep)).Message, StringComparison.Ordinal);
        Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(deep.ToJsonString()));
    }

    [Theory]
    [InlineData("", "the filter is not valid JSON")]
    [InlineData("{\"op\":", "the filter is not valid JSON")]
    [InlineData("null", "the filter is JSON null")]
    [InlineData("42", "expected a CQL2-JSON expression object at $, found the number 42")]
    [InlineData("[]", "expected a CQL2-JSON expression object at $, found an array")]
    [InlineData("\"a = 1\"", "expected a CQL2-JSON expression object at $, found a string")]
    [InlineData("""{"op":"foo","args":[]}""", "unknown CQL2-JSON operator 'foo' at $")]
    [InlineData("""{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[1,2]}]}""", "unknown CQL2-JSON operator 's_intersects' at $")]
    [InlineData("""{"op":"=","args":[{"property":"a"}]}""", "'=' takes 2 arguments, got 1 at $.args")]
    [InlineData("""{"op":"like","args":[{"property":"a"},"x","y"]}""", "'like' takes 2 arguments, got 3 at $.args")]
    [InlineData("""{"op":"between","args":[{"property":"a"},1]}""", "'between' takes 3 arguments, got 2 at $.args")]
    [InlineData("""{"op":"between","args":[{"property":"a"},[1]]}""", "'between' takes 2 arguments, got 1 at $.args[1]")]
    [InlineData("""{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]}]}""", "'and' takes at least 2 arguments, got 1 at $.args")]
    [InlineData("""{"op":"not","args":[true,false]}""", "'not' takes 1 argument, got 2 at $.args")]
    [InlineData("""{"op":"isNull","args":[]}""", "'isNull' takes 1 argument, got 0 at $.args")]
    [InlineData("""{"op":"="}""", "'=' needs an \"args\" array at $")]
    [InlineData("""{"op":"=","args":{"a":1}}""", "'=' needs an \"args\" array at $")]
    [InlineData("""{"property":"a"}""", "expected a condition at $, found a bare property reference")]
    [InlineData("""{"args":[]}""", "expected an object with \"op\" and \"args\" at $")]
    [InlineData("""{"op":1,"args":[]}""", "\"op\" must be a string at $")]
    [InlineData("""{"op":"in","args":[{"property":"a"},1]}""", "'in' needs a non-empty array of values as its second argument at $.args[1]")]
    [InlineData("""{"op":"in","args":[{"property":"a"},[]]}""", "'in' needs a non-empty array of values as its second argument at $.args[1]")]
    [InlineData("""{"op":"in","args":[{"property":"a"},[1,null]]}""", "null is not a valid argument at $.args[1][1]")]
    [InlineData("""{"op":"like","args":[{"property":"a"},1]}""", "'like' needs a string pattern at $.args[1], found the number 1")]
    [InlineData("""{"op":"like","args":[{"property":"a"},"x\\"]}""", "LIKE pattern 'x\\' at $.args[1] ends with an escape")]
    [InlineData("""{"op":"<","args":[{"property":"t"},{"timestamp":"yesterday"}]}""", "invalid TIMESTAMP 'yesterday' at $.args[1]")]
    [InlineData("""{"op":"<","args":[{"property":"t"},{"timestamp":20210227}]}""", "\"timestamp\" must be a string such as '2021-02-27T00:00:00Z' at $.args[1]")]
    [InlineData("""{"op":"<","args":[{"property":"t"},{"date":"2021-2-3"}]}""", "invalid DATE '2021-2-3' at $.args[1]")]
    [InlineData("""{"op":"=","args":[{"property":""},1]}""", "\"property\" must be a non-empty string at $.args[0]")]
    [InlineData("""{"op":"=","args":[{"property":1},1]}""", "\"property\" must be a non-empty string at $.args[0]")]
    [InlineData("""{"op":"=","args":[null,1]}""", "null is not a valid argument at $.args[0]")]
    [InlineData("""{"op":"=","args":[{"property":"a"},[1]]}""", "expected a property or value at $.args[1], found an array")]
    [InlineData("""{"op":"=","args":[{"property":"a"},{"op":"+","args":[1,2]}]}""", "found an expression with op '+'; functions and arithmetic are not supported")]
    [InlineData("""{"op":"=","args":[{"property":"a"},{"interval":["2021-01-01","2021-02-01"]}]}""", "expected a property or value at $.args[1], found an object without")]
    [InlineData("""{"op":"and","args":[{"property":"a"},true]}""", "expected a condition at $.args[0], found a bare property reference")]
    [InlineData("""{"op":"or","args":[1,true]}""", "expected a CQL2-JSON expression object at $.args[0], found the number 1")]
    [InlineData("""{"op":"=","args":[{"property":"a"},1e999]}""", "number at $.args[1] is out of range")]
    [InlineData("""{"op":"<","args":[{"property":"flag"},true]}""", "'<' cannot order booleans at $")]
    [InlineData("""{"op":"between","args":[{"property":"a"},false,true]}""", "BETWEEN cannot order booleans at $")]
    public void Json_errors_say_what_and_where(string json, string message)
    {
        var error = Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(json));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_errors_name_the_path_within_the_enclosing_document()
    {
        var body = JsonNode.Parse("""{"filter-lang":"cql2-json","filter":{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},{"op":"<","args":[{"property":"b"}]}]}}""")!;
        var error = Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(body["filter"]));
        Assert.Equal("'<' takes 2 arguments, got 1 at $.filter.args[1].args", error.Message);

        Assert.Contains("JSON null", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson((JsonNode?)null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_json_keys_are_cql2_errors()
    {
        const string json = """{"op":"=","args":[{"property":"a","property":"b"},1]}""";
        Assert.Contains("Duplicate property 'property'", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(json)).Message, StringComparison.Ordinal);

        // A node parsed elsewhere only notices the duplicate when the key is first read.
        var node = JsonNode.Parse(json);
        Assert.Contains("not valid CQL2-JSON", Assert.Throws<Cql2Exception>(() => Cql2Expression.ParseJson(node)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_text_filters_fail_only_with_cql2_errors()
    {
        foreach (var filter in Corpus)
        {
            for (var length = 0; length <= filter.Length; length++)
            {
                ParseTextOrCql2Error(filter[..length]);
            }
        }
    }

    [Fact]
    public void Mutated_text_filters_fail_only_with_cql2_errors()
    {
        const string alphabet = "()'\",=<>!%_\\ .-+eE019aAnNdDoOrRtTlLiIkK:\t";
        var random = new Random(20210227);
        var parsed = 0;
        for (var round = 0; round < 5000; round++)
        {
            var text = new StringBuilder(Corpus[random.Next(Corpus.Length)]);
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                var at = random.Next(text.Length + 1);
                switch (random.Next(3))
                {
                    case 0 when at < text.Length:
                        text.Remove(at, 1);
                        break;
                    case 1 when at < text.Length:
                        text[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    default:
                        text.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                }
            }

            parsed += ParseTextOrCql2Error(text.ToString()) ? 1 : 0;
        }

        // The mutations are mild enough that some still parse, which then round-trip and evaluate.
        Assert.InRange(parsed, 1, 4999);
    }

    [Fact]
    public void Truncated_and_mutated_json_filters_fail_only_with_cql2_errors()
    {
        JsonNode?[] replacements = [null, 1, "x", true, new JsonArray(), new JsonObject(), JsonNode.Parse("""{"op":"zz","args":[]}"""), JsonNode.Parse("""{"property":"p"}"""), JsonNode.Parse("""{"timestamp":"2021"}""")];
        var random = new Random(27);
        foreach (var filter in Corpus)
        {
            var json = Cql2Expression.ParseText(filter).ToJson().ToJsonString();
            for (var length = 0; length <= json.Length; length++)
            {
                ParseJsonOrCql2Error(json[..length]);
            }

            for (var round = 0; round < 200; round++)
            {
                var node = JsonNode.Parse(json)!;
                var containers = Descendants(node).Where(n => n is JsonArray or JsonObject).ToList();
                if (containers.Count == 0)
                {
                    break;
                }

                var target = containers[random.Next(containers.Count)];
                var replacement = replacements[random.Next(replacements.Length)]?.DeepClone();
                if (target is JsonArray array && array.Count > 0)
                {
                    array[random.Next(array.Count)] = replacement;
                }
                else if (target is JsonObject obj && obj.Count > 0)
                {
                    var key = obj.ElementAt(random.Next(obj.Count)).Key;
                    if (random.Next(2) == 0)
                    {
                        obj.Remove(key);
                    }
                    else
                    {
                        obj[key] = replacement;
                    }
                }

                ParseJsonOrCql2Error(node.ToJsonString());
            }
        }
    }

    private static bool ParseTextOrCql2Error(string text)
    {
        Cql2Expression expression;
        try
        {
            expression = Cql2Expression.ParseText(text);
        }
        catch (Cql2Exception e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return false;
        }

        // Whatever parses must write back to text that parses to the same thing, and evaluate without throwing.
        Assert.Equal(expression.ToString(), Cql2Expression.ParseText(expression.ToString()).ToString());
        Assert.Equal(expression.ToString(), Cql2Expression.ParseJson(expression.ToJson()).ToString());
        _ = Selected(expression);
        return true;
    }

    private static void ParseJsonOrCql2Error(string json)
    {
        Cql2Expression expression;
        try
        {
            expression = Cql2Expression.ParseJson(json);
        }
        catch (Cql2Exception e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return;
        }

        Assert.Equal(expression.ToString(), Cql2Expression.ParseText(expression.ToString()).ToString());
        _ = Selected(expression);
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonArray array => array,
            JsonObject obj => obj.Select(p => p.Value),
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is not null)
            {
                foreach (var descendant in Descendants(child))
                {
                    yield return descendant;
                }
            }
        }
    }

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual.ToJsonString()}");

    private static JsonObject Item(string json) => JsonNode.Parse(json)!.AsObject();

    private static Func<string, JsonNode?> Lookup(JsonObject item) => name => item.TryGetPropertyValue(name, out var value) ? value : null;

    // The ids of the items the filter matches, comma-separated in item order.
    private static string Selected(Cql2Expression expression) =>
        string.Join(",", Items.Where(item => expression.Matches(Lookup(item))).Select(item => (string)item["id"]!));
}
