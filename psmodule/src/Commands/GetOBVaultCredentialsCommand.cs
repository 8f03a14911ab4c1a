using System.IO;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBVaultCredentials: issue a vault credentials file (&lt;VaultName&gt;_&lt;yyyy-MM-dd&gt;.VaultCredentials)
    /// into a folder. Issuing supersedes every file issued before.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBVaultCredentials")]
    [OutputType(typeof(FileInfo))]
    public sealed class GetOBVaultCredentialsCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string OutputPath { get; set; }

        [Parameter]
        [ValidateRange(1, 10)]
        public int ValidityDays { get; set; } = 10;

        protected override object ErrorTarget
        {
            get { return Path; }
        }

        protected override void Execute()
        {
            string vaultPath = TrimSeparator(ResolvePath(Path));
            string outputPath = TrimSeparator(ResolvePath(OutputPath));
            using (VaultHandle vault = Native.VaultOpen(vaultPath))
            {
                string file = Native.VaultCredentialsIssue(vault, outputPath, ValidityDays);
                WriteObject(new FileInfo(file));
            }
        }
    }
}
