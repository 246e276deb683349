namespace Floe.Store.Format;

/// <summary>A branch or tag object: the snapshot it points at (spec: Ref).</summary>
public static class RefObject
{
    public const string BranchPrefix = "refs/branches/";
    public const string TagPrefix = "refs/tags/";

    public static byte[] Encode(ObjectId snapshot)
    {
        var w = new PayloadWriter(16);
        w.WriteId(snapshot);
        return Envelope.Seal(ObjectType.Ref, w.WrittenSpan, compress: false);
    }

    public static ObjectId Decode(string key, ReadOnlySpan<byte> data)
    {
        var payload = Envelope.Open(key, ObjectType.Ref, data);
        var r = new PayloadReader(payload, key);
        var id = r.ReadId();
        r.ExpectEnd();
        return id;
    }

    /// <summary>Checks a branch or tag name against the spec's rule; throws ArgumentException naming it.</summary>
    public static void ValidateName(string name, string kind)
    {
        var ok = name.Length is > 0 and <= 255 && name[0] != '.' && name[0] != '-' &&
                 name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');
        if (!ok)
        {
            throw new ArgumentException($"invalid {kind} name '{name}': use 1-255 of A-Z a-z 0-9 . _ -, not starting with . or -", kind);
        }
    }
}
