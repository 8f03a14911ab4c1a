using System.IO;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBVaultCredentials: issue a vault credentials file (&lt;VaultName&gt;_&lt;yyyy-MM-dd&gt;.VaultCredentials)
    /// into a folder, for a local vault (-Path) or a vault on Azure (the file then carries a container
    /// access token, never the account key). Issuing supersedes every file issued before.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBVaultCredentials", DefaultParameterSetName = AzureVault.PathSet)]
    [OutputType(typeof(FileInfo))]
    public sealed class GetOBVaultCredentialsCommand : OBVaultCmdletBase
    {
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = AzureVault.PathSet)]
        [Parameter(Mandatory = true, ParameterSetName = AzureVault.AzureSet)]
        [ValidateNotNullOrEmpty]
        public string OutputPath { get; set; }

        [Parameter]
        [ValidateRange(1, 10)]
        public int ValidityDays { get; set; } = 10;

        protected override void Execute()
        {
            string outputPath = TrimSeparator(ResolvePath(OutputPath));
            using (VaultHandle vault = OpenVault())
            {
                string file = Native.VaultCredentialsIssue(vault, outputPath, ValidityDays);
                WriteObject(new FileInfo(file));
            }
        }
    }
}
