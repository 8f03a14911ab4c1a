using OBAgent.Interop;

namespace OBAgent.Mapping
{
    /// <summary>An open vault as the OBVault object the vault cmdlets return.</summary>
    internal static class VaultMapping
    {
        internal static OBVault ToOBVault(VaultHandle vault)
        {
            return new OBVault
            {
                Name = Native.VaultName(vault),
                VaultId = Native.VaultId(vault),
                Path = Native.VaultLocation(vault),
                StorageType = Native.VaultStorageType(vault),
                CreatedTime = Native.VaultCreated(vault).LocalDateTime,
                FormatVersion = Native.VaultFormatVersion(vault),
                ServerCount = Native.VaultServerCount(vault),
            };
        }
    }
}
