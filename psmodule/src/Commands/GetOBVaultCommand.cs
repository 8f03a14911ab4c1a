using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>Get-OBVault: open a vault (a local folder, or an Azure Blob Storage container) and describe it.</summary>
    [Cmdlet(VerbsCommon.Get, "OBVault", DefaultParameterSetName = AzureVault.PathSet)]
    [OutputType(typeof(OBVault))]
    public sealed class GetOBVaultCommand : OBVaultCmdletBase
    {
        protected override void Execute()
        {
            using (VaultHandle vault = OpenVault())
            {
                WriteObject(VaultMapping.ToOBVault(vault));
            }
        }
    }
}
