using System;

namespace OBAgent
{
    /// <summary>A vault, as New-OBVault and Get-OBVault show it.</summary>
    public sealed class OBVault
    {
        public string Name { get; internal set; }

        public string VaultId { get; internal set; }

        /// <summary>Where the vault is: the absolute folder of a local vault.</summary>
        public string Path { get; internal set; }

        /// <summary>The kind of storage, e.g. "Local".</summary>
        public string StorageType { get; internal set; }

        /// <summary>When the vault was created, local time.</summary>
        public DateTime CreatedTime { get; internal set; }

        public int FormatVersion { get; internal set; }

        /// <summary>How many servers are registered to the vault.</summary>
        public long ServerCount { get; internal set; }

        public override string ToString()
        {
            return Name;
        }
    }
}
