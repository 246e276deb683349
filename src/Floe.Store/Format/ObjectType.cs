namespace Floe.Store.Format;

/// <summary>The object types of the on-store format (spec: Objects and keys).</summary>
public enum ObjectType : byte
{
    RepositoryConfig = 1,
    Snapshot = 2,
    ManifestShard = 3,
    TransactionLog = 4,
    Ref = 5,
    Changeset = 6,
}
