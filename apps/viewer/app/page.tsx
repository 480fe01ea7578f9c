import { CreateJobForm } from "@/components/CreateJobForm";
import { JobList } from "@/components/JobList";

import styles from "./page.module.css";

export default function Home() {
  return (
    <div className={styles.home}>
      <div>
        <h1>Make something in 3D</h1>
        <p className="muted">
          Describe an environment, upload images or a video; follow the job live and look at the result in your
          browser.
        </p>
      </div>
      <CreateJobForm />
      <JobList />
    </div>
  );
}
