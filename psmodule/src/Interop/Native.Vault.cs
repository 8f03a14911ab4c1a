using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // vault.h

        internal static VaultHandle VaultCreate(string path, string name)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_create(out vault, Utf8.ToNative(path), Utf8.ToNative(name));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
        }

        internal static VaultHandle VaultOpen(string path)
        {
            VaultHandle vault;
            int rc = NativeMethods.ob_vault_open(out vault, Utf8.ToNative(path));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                vault.Dispose();
                throw failure;
            }
            return vault;
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
            return Utf8.FromNative(NativeMethods.ob_vault_location(vault));
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
            IntPtr path;
            int rc = NativeMethods.ob_vault_credentials_issue(out path, vault, Utf8.ToNative(outputDir), validityDays);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(path);
                throw failure;
            }
            return Utf8.TakeOwned(path);
        }

        internal static string VaultSecurityPinNew(VaultHandle vault, out DateTimeOffset expires)
        {
            IntPtr pin;
            long when;
            int rc = NativeMethods.ob_vault_security_pin_new(out pin, out when, vault);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(pin);
                throw failure;
            }
            expires = FromUnix(when);
            return Utf8.TakeOwned(pin);
        }

        /// <summary>Open (name null) or create a vault on Azure Blob Storage; the key lives in unmanaged memory only for the call.</summary>
        private static VaultHandle VaultAzure(string name, AzureVaultInfo azure)
        {
            var allocated = new List<IntPtr>();
            IntPtr key = IntPtr.Zero;
            int keyLength = 0;
            try
            {
                byte[] keyBytes = Utf8.ToNative(azure.AccountKey);
                if (keyBytes != null)
                {
                    keyLength = keyBytes.Length;
                    key = Marshal.AllocHGlobal(keyLength);
                    Marshal.Copy(keyBytes, 0, key, keyLength);
                    Array.Clear(keyBytes, 0, keyBytes.Length);
                }
                var raw = new ObVaultAzureOptionsNative
                {
                    version = 1,
                    endpoint = Unmanaged(azure.Endpoint, allocated),
                    account = Unmanaged(azure.Account, allocated),
                    account_key = key,
                    container = Unmanaged(azure.Container, allocated),
                    access_days = azure.AccessDays,
                    ca_file = IntPtr.Zero,
                };
                VaultHandle vault;
                int rc = name == null
                    ? NativeMethods.ob_vault_open_azure(out vault, ref raw)
                    : NativeMethods.ob_vault_create_azure(out vault, Utf8.ToNative(name), ref raw);
                if (rc < 0)
                {
                    OBAgentException failure = Failure(rc);
                    vault.Dispose();
                    throw failure;
                }
                return vault;
            }
            finally
            {
                if (key != IntPtr.Zero)
                {
                    Marshal.Copy(new byte[keyLength], 0, key, keyLength);
                    Marshal.FreeHGlobal(key);
                }
                foreach (IntPtr a in allocated)
                    Marshal.FreeHGlobal(a);
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
