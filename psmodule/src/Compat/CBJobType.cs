namespace Microsoft.Internal.CloudBackup.ObjectModel.OMCommon
{
    /// <summary>MARS's job type enum; OBJob.JobType (OBAgent.OBJobType) has the same names and values.</summary>
    public enum CBJobType
    {
        Backup = 1,
        Recovery = 2,
        ItemLevelRecovery = 3,

        /// <summary>obagent's restore drill (Start-OBRecoveryDrill); MARS has none.</summary>
        RecoveryDrill = 4,
    }
}
