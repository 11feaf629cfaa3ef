import { giveAgeConsent } from "../lib/ageGate";

/** Shown instead of the stream until the viewer confirms their age; nothing of the stream
 * (player, chat) is loaded before that. */
export function AgeRequirementCard({ title, onConsent, onLeave }: { title: string; onConsent: () => void; onLeave: () => void }) {
  return (
    <section className="age-card" aria-labelledby="age-title">
      <h2 id="age-title">Age-restricted stream</h2>
      <p>
        <strong>{title}</strong> is for viewers aged 18 or over.
      </p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={() => {
            giveAgeConsent();
            onConsent();
          }}
        >
          I am 18 or older
        </button>
        <button type="button" onClick={onLeave}>
          Leave
        </button>
      </div>
    </section>
  );
}
