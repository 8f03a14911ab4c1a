using OBAgent.Interop;

namespace OBAgent.Commands
{
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
