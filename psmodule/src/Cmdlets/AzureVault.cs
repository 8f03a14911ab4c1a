using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Lets a string parameter take a SecureString too (MARS-style scripts pass a storage account
    /// key as a plain string; a careful script passes a SecureString). The SecureString is read
    /// into a string only for the call.
    /// </summary>
    internal sealed class SecureStringToStringAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject ? ((PSObject)inputData).BaseObject : inputData;
            var secure = value as SecureString;
            if (secure == null)
                return inputData;
            IntPtr p = IntPtr.Zero;
            try
            {
                p = Marshal.SecureStringToGlobalAllocUnicode(secure);
                return Marshal.PtrToStringUni(p);
            }
            finally
            {
                if (p != IntPtr.Zero)
                    Marshal.ZeroFreeGlobalAllocUnicode(p);
            }
        }
    }

    /// <summary>The vault cmdlets' two ways to name a vault: a local folder (-Path) or an Azure container.</summary>
    internal static class AzureVault
    {
        internal const string PathSet = "Path";
        internal const string AzureSet = "Azure";

        internal static AzureVaultInfo Info(string account, string key, string container, string endpoint, int accessDays)
        {
            return new AzureVaultInfo
            {
                Account = account,
                AccountKey = key,
                Container = container,
                Endpoint = string.IsNullOrEmpty(endpoint) ? null : endpoint.TrimEnd('/'),
                AccessDays = accessDays,
            };
        }
    }
}
