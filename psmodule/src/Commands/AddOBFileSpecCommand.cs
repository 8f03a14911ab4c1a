using System.Collections.Generic;
using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// Add-OBFileSpec: add inclusions and exclusions to a policy object (committed by Set-OBPolicy).
    /// Returns the policy once, after all the specs of the pipeline are added. An inclusion that does
    /// not exist now is added with a warning: backups list it as missing until it exists.
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "OBFileSpec", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(OBPolicy))]
    public sealed class AddOBFileSpecCommand : OBCmdletBase
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
                if (spec != null && ShouldProcess(Policy.ToString(), "Add " + spec))
                {
                    Policy.Add(spec);
                    WarnIfMissing(spec);
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
