using System.Collections.Generic;
using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// Remove-OBFileSpec: drop inclusions and exclusions from a policy object (committed by Set-OBPolicy).
    ///
    /// Non-terminating error: FileSpecNotInPolicy (ObjectNotFound), a spec the policy does not have.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBFileSpec", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(OBPolicy))]
    public sealed class RemoveOBFileSpecCommand : OBCmdletBase
    {
        private readonly List<OBPolicy> touched = new List<OBPolicy>();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public OBFileSpec[] FileSpec { get; set; }

        protected override void Execute()
        {
            foreach (OBFileSpec spec in FileSpec)
            {
                if (spec == null || !ShouldProcess(Policy.ToString(), "Remove " + spec))
                    continue;
                if (!Policy.Remove(spec))
                {
                    WriteError(new ErrorRecord(new System.ArgumentException(string.Format(
                        "The policy has no {0} '{1}'. Get-OBFileSpec lists the file specs it has.",
                        spec.IsExclude ? "exclusion" : "inclusion", spec.FileSpec)),
                        "FileSpecNotInPolicy", ErrorCategory.ObjectNotFound, spec));
                }
            }
            if (!touched.Contains(Policy))
                touched.Add(Policy);
        }

        protected override void EndProcessing()
        {
            foreach (OBPolicy p in touched)
                WriteObject(p);
        }
    }
}
