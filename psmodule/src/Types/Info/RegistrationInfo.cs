using System;

namespace OBAgent
{
    /// <summary>What ob_registration holds, copied out of native memory.</summary>
    internal sealed class RegistrationInfo
    {
        internal string VaultName;
        internal string VaultId;
        internal string VaultLocation;
        internal string StorageType;
        internal string ServerName;
        internal string ServerId;
        internal DateTimeOffset RegisteredAt;
    }
}
