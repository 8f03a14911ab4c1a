using System;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // vault.h

        internal static VaultHandle VaultCreate(string path, string name)
        {
            return Open((out VaultHandle vault) => NativeMethods.ob_vault_create(out vault, Utf8.ToNative(path), Utf8.ToNative(name)));
        }

        internal static VaultHandle VaultOpen(string path)
        {
            return Open((out VaultHandle vault) => NativeMethods.ob_vault_open(out vault, Utf8.ToNative(path)));
        }

        internal static string VaultName(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_name(vault));
        }

        internal static string VaultId(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_id(vault));
        }

        internal static string VaultLocation(VaultHandle vault)
        {
            return EnginePath.FromNativePointer(NativeMethods.ob_vault_location(vault));
        }

        internal static string VaultStorageType(VaultHandle vault)
        {
            return Utf8.FromNative(NativeMethods.ob_vault_storage_type(vault));
        }

        internal static DateTimeOffset VaultCreated(VaultHandle vault)
        {
            return FromUnix(NativeMethods.ob_vault_created(vault));
        }

        internal static int VaultFormatVersion(VaultHandle vault)
        {
            return NativeMethods.ob_vault_format_version(vault);
        }

        internal static long VaultServerCount(VaultHandle vault)
        {
            UIntPtr count;
            Check(NativeMethods.ob_vault_server_count(out count, vault));
            return (long)count.ToUInt64();
        }

        internal static string VaultCredentialsIssue(VaultHandle vault, string outputDir, int validityDays)
        {
            return EnginePath.ToNative(TakeString((out IntPtr path) =>
                NativeMethods.ob_vault_credentials_issue(out path, vault, Utf8.ToNative(outputDir), validityDays)));
        }

        internal static string VaultSecurityPinNew(VaultHandle vault, out DateTimeOffset expires)
        {
            long when = 0;
            string pin = TakeString((out IntPtr p) => NativeMethods.ob_vault_security_pin_new(out p, out when, vault));
            expires = FromUnix(when);
            return pin;
        }

        /// <summary>Open (name null) or create a vault on Azure Blob Storage; the key lives in unmanaged memory only for the call.</summary>
        private static VaultHandle VaultAzure(string name, AzureVaultInfo azure)
        {
            using (var strings = new UnmanagedScope())
            {
                IntPtr key = strings.AddSecret(azure.AccountKey);
                var raw = new ObVaultAzureOptionsNative
                {
                    version = 1,
                    endpoint = strings.Add(azure.Endpoint),
                    account = strings.Add(azure.Account),
                    account_key = key,
                    container = strings.Add(azure.Container),
                    access_days = azure.AccessDays,
                    ca_file = IntPtr.Zero,
                };
                return name == null
                    ? Open((out VaultHandle vault) => NativeMethods.ob_vault_open_azure(out vault, ref raw))
                    : Open((out VaultHandle vault) => NativeMethods.ob_vault_create_azure(out vault, Utf8.ToNative(name), ref raw));
            }
        }

        internal static VaultHandle VaultCreateAzure(string name, AzureVaultInfo azure)
        {
            return VaultAzure(name ?? "", azure);
        }

        internal static VaultHandle VaultOpenAzure(AzureVaultInfo azure)
        {
            return VaultAzure(null, azure);
        }

        /// <summary>Undelete a soft-deleted recovery point of a server (the vault owner's right).</summary>
        internal static void VaultUndelete(VaultHandle vault, string serverName, string pointId)
        {
            Check(NativeMethods.ob_vault_undelete(vault, Utf8.ToNative(serverName), Utf8.ToNative(pointId)));
        }
    }
}
